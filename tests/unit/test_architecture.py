"""The domain imports no framework: model, events, commands, policies, rules, metrics, importers and the kernel
use the standard library and each other only (docs/ARCHITECTURE.md, STYLE.md habit 1)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import careline

ROOT = Path(careline.__file__).parent
CONTEXTS = (
    "kernel", "conversations", "contacts", "agents", "channels", "routing", "triage", "ingestion", "reporting",
    "alerts", "departments", "approvals", "voice", "webchat", "canned",
)
DOMAIN_FILES = (
    "model.py", "events.py", "commands.py", "handlers.py", "ports.py", "policies.py", "metrics.py", "rules.py",
    "importers.py", "pii.py", "priority.py", "policy.py", "listening.py", "writer.py", "expressions.py",
    "calendar.py", "engine.py", "simulation.py",
)
FORBIDDEN = (
    "sqlalchemy", "fastapi", "starlette", "httpx", "redis", "psycopg", "uvicorn", "typer", "rich", "pydantic",
    "vaderSentiment", "sklearn", "careline.adapters", "careline.entrypoints", "careline.triage.sentiment",
    "cryptography",  # secrets are sealed and opened in the storage adapter only
)


def domain_modules() -> list[Path]:
    found = {path for context in CONTEXTS for name in DOMAIN_FILES if (path := ROOT / context / name).is_file()}
    found |= set((ROOT / "kernel").glob("*.py"))
    found.add(ROOT / "unit_of_work.py")
    return sorted(found)


def imported_names(source: str, package: str) -> list[tuple[int, str]]:
    """Every module an import statement names, with its line; relative imports resolved against ``package``."""
    names: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(filter(None, [*parts[: len(parts) - node.level + 1], base]))
            names.append((node.lineno, base))
            names.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
    return names


def forbidden(name: str) -> bool:
    return any(name == banned or name.startswith(banned + ".") for banned in FORBIDDEN)


def test_the_domain_modules_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in domain_modules()}
    assert {
        "kernel/bus.py", "kernel/clock.py", "kernel/events.py", "conversations/model.py", "conversations/events.py",
        "conversations/commands.py", "contacts/model.py", "agents/model.py", "routing/policies.py",
        "triage/rules.py", "reporting/metrics.py", "ingestion/importers.py", "ingestion/model.py",
        "conversations/handlers.py", "routing/handlers.py", "ingestion/handlers.py", "conversations/ports.py",
        "channels/ports.py", "unit_of_work.py",
    } <= names


@pytest.mark.parametrize("path", domain_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_domain_module_imports_no_framework(path: Path) -> None:
    package = ".".join(("careline", *path.relative_to(ROOT).parent.parts))
    names = imported_names(path.read_text(encoding="utf-8"), package)
    offending = [f"line {line}: {name}" for line, name in names if forbidden(name)]
    assert offending == [], f"{path.relative_to(ROOT)} imports a framework or an outer layer"


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ("import sqlalchemy as sa", True),
        ("from sqlalchemy.engine import Engine", True),
        ("import redis.asyncio", True),
        ("from careline.adapters.db import tables", True),
        ("from ..adapters import delivery", True),
        ("from .. import entrypoints", True),
        ("from careline.entrypoints.api import app", True),
        ("def later():\n    import httpx", True),
        ("from careline.kernel.events import Event", False),
        ("from . import events", False),
        ("import richer_dataclasses", False),
    ],
)
def test_the_check_catches_what_it_should(source: str, caught: bool) -> None:
    names = [name for _, name in imported_names(source, "careline.conversations")]
    assert any(forbidden(name) for name in names) is caught
