"""Settings, validated once at start-up from the environment and the command line."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARELINE_", extra="ignore")

    home: Path = Field(default=Path(".careline"), description="data directory: SQLite file, trained models")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in home")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    delivery_poll_seconds: float = Field(default=0.5, gt=0)
    delivery_max_attempts: int = Field(default=8, ge=1)
    routing_sweep_seconds: float = Field(default=2.0, gt=0)  # offer expiry, step timeouts, SLA timers
    # Scale-out (docs/routing.md#several-routers): routing jobs go on a Redis stream that `careline router`
    # processes share; without it, every process routes its own commits in-process.
    redis_url: str | None = Field(default=None, repr=False)
    routing_stream: str = Field(default="careline:routing", min_length=1, max_length=200)
    # Account or booking references counted as personal data: name -> regular expression, e.g.
    # CARELINE_REFERENCE_PATTERNS='{"booking": "(?i:PNR|booking)\\W{0,3}(?P<ref>[A-Z0-9]{6})"}' (docs/triage.md).
    reference_patterns: dict[str, str] = Field(default_factory=dict)
    # Alert emails (docs/alerts.md#delivery): without a host, email subscriptions fail with that reason.
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "careline@localhost"
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)
    # Encrypts channel accounts' secrets at rest (docs/channels.md#credentials): a Fernet key (`careline secrets
    # new-key`) or a passphrase of 16 characters or more. Without it, accounts cannot be given secrets. Checked
    # by bootstrap (adapters/secret_box.py), not here: a validation error would print the value.
    secret_key: SecretStr | None = Field(default=None, repr=False)
    # Email channel (docs/channels.md#email).
    email_max_attachment_bytes: int = Field(
        default=10 * 1024 * 1024, ge=0, description="an email attachment larger than this is not stored (skipped)"
    )
    email_max_attachments_bytes: int = Field(
        default=25 * 1024 * 1024, ge=0, description="at most this much of one email's attachments is stored"
    )
    email_max_message_bytes: int = Field(
        default=40 * 1024 * 1024,
        ge=1024,
        description="a bigger mail is refused by the SMTP receiver (552), and only its headers are read over IMAP",
    )
    email_imap_poll: bool = Field(
        default=True, description="`careline serve` polls the IMAP mailboxes of email accounts that have imap_host"
    )
    email_poll_seconds: float = Field(
        default=30.0, gt=0, description="how often a mailbox without IDLE is polled; the longest IDLE wait too"
    )
    smtp_receiver_port: int | None = Field(
        default=None, ge=0, le=65535, description="`careline serve` also receives mail by SMTP on this port"
    )
    smtp_receiver_host: str = Field(default="127.0.0.1", description="the address the SMTP receiver listens on")
    # X in poll mode (docs/channels.md#x-twitter).
    x_poll_seconds: float = Field(
        default=5.0,
        ge=0,
        description="how often `careline serve` looks for X streams due a poll (each account's poll_seconds says "
        "how often each is swept); 0 turns the X poller off in this process (run it in one process only)",
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("CARELINE_DATABASE_URL must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("CARELINE_REDIS_URL must be a redis://, rediss:// or unix:// URL")
        return value or None

    @field_validator("reference_patterns")
    @classmethod
    def _valid_patterns(cls, value: dict[str, str]) -> dict[str, str]:
        from careline.triage.pii import PiiDetector  # the detector's own checks, with their clear messages

        PiiDetector(value)
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'careline.db').resolve()}"

    def ensure_home(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
