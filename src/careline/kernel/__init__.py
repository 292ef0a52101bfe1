"""Shared building blocks: ids, clock, events, errors, message bus (docs/ARCHITECTURE.md)."""
