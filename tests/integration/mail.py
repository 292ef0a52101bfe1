"""A minimal SMTP server for tests: speaks just enough of RFC 5321 for smtplib, and keeps what it receives."""

from __future__ import annotations

import socketserver
import threading
from email import message_from_bytes
from email.message import Message


class _Handler(socketserver.StreamRequestHandler):
    server: SmtpServer

    def handle(self) -> None:
        self._say(b"220 test-smtp ready")
        sender, recipients = "", []
        while line := self.rfile.readline():
            command = line.strip().upper()
            if command.startswith((b"EHLO", b"HELO")):
                self._say(b"250 test-smtp")
            elif command.startswith(b"MAIL FROM:"):
                sender = line.strip()[10:].decode()
                self._say(b"250 OK")
            elif command.startswith(b"RCPT TO:"):
                recipients.append(line.strip()[8:].decode().strip("<>"))
                self._say(b"250 OK")
            elif command == b"DATA":
                self._say(b"354 end with <CRLF>.<CRLF>")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.server.received.append((sender, recipients, message_from_bytes(data)))
                self._say(b"250 queued")
            elif command == b"QUIT":
                self._say(b"221 bye")
                return
            else:
                self._say(b"250 OK")

    def _say(self, line: bytes) -> None:
        self.wfile.write(line + b"\r\n")


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[tuple[str, list[str], Message]] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def __enter__(self) -> SmtpServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.shutdown()
        self.server_close()
