"""Ingestion's one command."""

from __future__ import annotations

import dataclasses

from careline.ingestion.model import InboundMessage


@dataclasses.dataclass(frozen=True, kw_only=True)
class IngestMessages:
    items: tuple[InboundMessage, ...]
    create_accounts: bool = False  # importers create brand accounts; the live API requires them to exist
