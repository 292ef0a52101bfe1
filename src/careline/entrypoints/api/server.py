"""Running the API under uvicorn: in the foreground (`careline serve`) or in a thread (demo, tests) (docs/api.md)."""

from __future__ import annotations

import gc
import threading
import time

import uvicorn

from careline.bootstrap import Careline
from careline.entrypoints.api.app import create_app

START_TIMEOUT = 15.0
WS_MAX_SIZE = 64 * 1024  # a web chat frame is a few KiB at most; larger ones close the socket (1009)


def _server(careline: Careline, host: str, port: int, *, quiet: bool) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(careline),
        host=host,
        port=port,
        lifespan="on",
        ws="websockets-sansio",  # the web chat socket (routes_webchat.py); not the legacy implementation
        ws_max_size=WS_MAX_SIZE,
        log_level="warning" if quiet else "info",
        access_log=not quiet,
        timeout_graceful_shutdown=10,
    )
    return uvicorn.Server(config)


def serve(careline: Careline, host: str, port: int) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM), then finish the requests and deliveries in flight."""
    server = _server(careline, host, port, quiet=False)
    # Everything built so far lives as long as the process: keep the collector from rescanning it, which
    # otherwise shows as 50-80 ms pauses under load (docs/benchmarks.md).
    gc.collect()
    gc.freeze()
    server.run()


class ServerHandle:
    """A uvicorn server running in a background thread; ``stop()`` shuts it down gracefully."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, host: str) -> None:
        self._server = server
        self._thread = thread
        self.host = host
        self.port: int = server.servers[0].sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout: float = 30.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError(f"the API server at {self.url} did not stop within {timeout} s")


def run_server_in_thread(careline: Careline, host: str = "127.0.0.1", port: int = 0) -> ServerHandle:
    """Start the API (and its delivery loop) in a thread; ``port=0`` picks a free port (see ``handle.port``)."""
    server = _server(careline, host, port, quiet=True)
    thread = threading.Thread(target=server.run, name=f"careline-api-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"the API server could not start on {host}:{port} (see the log)")
        if time.monotonic() > deadline:
            server.should_exit = True
            thread.join(START_TIMEOUT)
            raise RuntimeError(f"the API server did not start on {host}:{port} within {START_TIMEOUT} s")
        time.sleep(0.01)
    return ServerHandle(server, thread, host)
