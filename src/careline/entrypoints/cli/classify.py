"""`careline classify`: one text per line on stdin, one JSON verdict per line on stdout, in order (docs/triage.md).

Lines are triaged in batches (the models score a batch many times faster than single posts) and each batch is
written and flushed before the next is read, so the command works in a pipe as well as on a file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer
from rich.console import Console

from careline.entrypoints.cli.context import DEFAULT_TRAINING_DATA
from careline.triage.pii import PiiDetector

if TYPE_CHECKING:
    from careline.triage.classifier import CategoryClassifier, TrainedSentiment

console = Console(stderr=True)
BATCH = 1000


def classify(
    ctx: typer.Context,
    models: Annotated[
        Path | None, typer.Option("--models", help="trained models (default: <home>/models/triage)")
    ] = None,
    channel: Annotated[str, typer.Option(help="the channel the posts came from (shapes the suggested reply)")] = "x",
    private: Annotated[
        bool, typer.Option("--private", help="the posts are private messages, not public posts")
    ] = False,
    reference: Annotated[
        list[str] | None,
        typer.Option("--reference", help="NAME=REGEX: an account or booking reference that is personal data"),
    ] = None,
) -> None:
    """Triage text read from stdin, one post per line; print one JSON object per line."""
    from careline.triage.model import Post
    from careline.triage.pipeline import Triage

    directory = models or ctx.obj.settings().home / "models" / "triage"
    pii = _detector(ctx, reference or [])
    sentiment, category = _trained(directory, may_build=models is None)
    triage = Triage(sentiment=sentiment, category=category, pii=pii)
    triage.language.load()
    now = datetime.now(UTC)
    for batch in _batches(sys.stdin):
        verdicts = triage.assess_many([Post(text=line, channel=channel, public=not private) for line in batch], now)
        _write(sys.stdout, (json.dumps(v.as_json(), ensure_ascii=False) for v in verdicts))


def _trained(directory: Path, may_build: bool) -> tuple[TrainedSentiment | None, CategoryClassifier | None]:
    """The models in ``directory``; when there are none (or only stale ones) and ``may_build``, the default models
    are built first from the labelled data `careline train` uses, if it is there; else VADER and no category."""
    from careline.triage import training

    try:
        loaded = training.load(directory)
        return loaded.sentiment, loaded.category
    except FileNotFoundError:
        problem = f"no trained models in {directory}"
    except ValueError as error:
        if not may_build:
            raise typer.BadParameter(str(error)) from error
        problem = str(error)
    source = DEFAULT_TRAINING_DATA
    if not may_build or not source.is_file():
        console.print(f"{problem}: sentiment falls back to VADER and no category is given (run `careline train`)")
        return None, None
    console.print(f"{problem}: building them from {source} first (once, about 20 s)")
    models = training.train(source)
    training.save(models, directory)
    return models.sentiment, models.category


def _detector(ctx: typer.Context, references: list[str]) -> PiiDetector:
    """The configured reference patterns, and those given here (which win on a shared name)."""
    patterns = dict(ctx.obj.settings().reference_patterns)
    for given in references:
        name, separator, pattern = given.partition("=")
        if not separator:
            raise typer.BadParameter(f"--reference takes NAME=REGEX, not {given!r}")
        patterns[name.strip()] = pattern
    try:
        return PiiDetector(patterns)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error


def _batches(stream: TextIO) -> Iterator[list[str]]:
    batch: list[str] = []
    for raw in stream:
        batch.append(raw.rstrip("\r\n"))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _write(out: TextIO, lines: Iterator[str]) -> None:
    out.write("".join(f"{line}\n" for line in lines))
    out.flush()
