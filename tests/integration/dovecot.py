"""A real IMAP server for tests: Dovecot (Debian's dovecot-imapd, put there by scripts/install), started on a free
127.0.0.1 port with a throw-away configuration, any user name with one password, and mail in Maildirs under a temporary
directory. It runs in the foreground as a child of the test process and is stopped with it.

As root (CI), Dovecot's login processes run as its packaged unprivileged users and mail is kept as the `dovecot`
user (Dovecot refuses uid 0 for mail); as anyone else, everything runs as the current user.
"""

from __future__ import annotations

import grp
import imaplib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = os.environ.get("CARELINE_TEST_DOVECOT", "/usr/sbin/dovecot")
PASSWORD = "imap-test-password"
START_TIMEOUT = 20.0


def available() -> bool:
    return os.path.isfile(DOVECOT) and os.access(DOVECOT, os.X_OK)


class Dovecot:
    """The server, with a fresh mailbox per test (``mailbox()``), and APPEND to deliver into one."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="careline-dovecot-"))
        self.dir.chmod(0o755)  # as root, Dovecot's own users must reach the mail below
        self.port = free_port()
        self.host = "127.0.0.1"
        self._serial = itertools.count(1)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Dovecot:
        config = self.dir / "dovecot.conf"
        config.write_text(self._config())
        with (self.dir / "dovecot.log").open("ab") as log:  # the child keeps its own descriptor
            self._process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stdout=log, stderr=log)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return self
            except OSError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"dovecot did not start; its log:\n{self.log()}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        path = self.dir / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def mailbox(self) -> str:
        """A new, empty mailbox; its address is also its IMAP user name (any user logs in with PASSWORD)."""
        return f"support-{next(self._serial)}@acme.test"

    def session(self, address: str) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap.login(address, PASSWORD)
        return imap

    def append(self, address: str, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver a mail into the mailbox, as an MTA would (IMAP APPEND of the exact bytes)."""
        with self.session(address) as imap:
            status, data = imap.append(folder, None, None, raw)
            assert status == "OK", data

    def flags(self, address: str) -> list[bytes]:
        """Each mail's FLAGS, in UID order."""
        with self.session(address) as imap:
            imap.select("INBOX")
            status, data = imap.uid("FETCH", "1:*", "(FLAGS)")
            assert status == "OK", data
            return [line for line in data if isinstance(line, bytes)]

    def _config(self) -> str:
        root = os.geteuid() == 0
        if root:  # the package's users: dovenull for logins, dovecot for internals and (here) the mail itself
            mail_user = pwd.getpwnam("dovecot")
            users = ""
            chroot = ""
        else:
            mail_user = pwd.getpwuid(os.geteuid())
            group = grp.getgrgid(os.getegid()).gr_name
            users = (
                f"default_internal_user = {mail_user.pw_name}\ndefault_internal_group = {group}\n"
                f"default_login_user = {mail_user.pw_name}\n"
            )
            chroot = "service anvil {\n  chroot =\n}\nservice imap-login {\n  chroot =\n}\n"
        mail = self.dir / "mail"
        mail.mkdir()
        if root:
            os.chown(mail, mail_user.pw_uid, mail_user.pw_gid)
        return f"""
base_dir = {self.dir / "run"}
state_dir = {self.dir / "state"}
log_path = {self.dir / "dovecot.log"}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
{users}first_valid_uid = {mail_user.pw_uid}
last_valid_uid = {mail_user.pw_uid}
mail_location = maildir:{mail}/%u
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={mail}/%u allow_all_users=yes
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
{chroot}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
