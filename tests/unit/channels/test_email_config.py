"""An email account's server settings: what an admin may set, and what is refused with the reason."""

from __future__ import annotations

import pytest

from careline.channels.email_config import ConfigureEmailAccount, configured
from careline.kernel.errors import InvalidInput


def change(config: dict[str, object], **settings: object) -> tuple[dict[str, object], list[str]]:
    return configured(config, ConfigureEmailAccount(account="support@acme.test", agent_id="agt_1", **settings))  # type: ignore[arg-type]


def test_settings_are_set_kept_and_removed() -> None:
    config, changed = change({"policy": "kept"}, imap_host="imap.example.com", imap_port=993, smtp_security="ssl")
    assert config == {"policy": "kept", "imap_host": "imap.example.com", "imap_port": 993, "smtp_security": "ssl"}
    assert changed == ["imap_host", "imap_port", "smtp_security"]
    again, changed = change(config, imap_host="imap.example.com", imap_port=0, smtp_security="")
    assert again == {"policy": "kept", "imap_host": "imap.example.com"} and changed == ["imap_port", "smtp_security"]


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"imap_host": "imap.example.com", "imap_tls": False}, "imap_tls false"),
        ({"smtp_host": "smtp.example.com", "smtp_security": "none", "smtp_user": "me"}, "only over TLS"),
        ({"smtp_security": "tls"}, "smtp_security must be one of"),
        ({"imap_host": "bad host/name"}, "imap_host must be a host name"),
        ({"smtp_port": 70000}, "smtp_port must be a port"),
        ({"imap_folder": "In\nbox"}, "imap_folder must be at most 200 printable"),
    ],
)
def test_unsafe_or_malformed_settings_are_refused(settings: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        change({}, **settings)


def test_plain_connections_are_allowed_on_this_machine() -> None:
    config, _ = change({}, imap_host="127.0.0.1", imap_tls=False, smtp_host="localhost", smtp_security="none")
    assert config["imap_tls"] is False and config["smtp_security"] == "none"
