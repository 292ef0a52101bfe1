"""`careline simulate`: a staffing plan over a real arrival trace, through the real engine (docs/routing.md).

The trace is read with the dataset importers (TWCS or airline, told apart by the header; inbound customer posts
only), each post is triaged by the real pipeline, the YAML plan is validated into the simulation's types, and
every policy runs over the same posts with the same seed (`routing/simulation.py`). The plan's reader lives here,
beside the command, because YAML is an entry point's concern; it is most of this module's length.
"""

from __future__ import annotations

import csv
import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from careline.ingestion.importers import parse as parse_trace
from careline.ingestion.model import InboundMessage
from careline.kernel.errors import InvalidInput
from careline.routing.calendar import BusinessHours
from careline.routing.model import AGENT_ATTRIBUTES, DEFAULT_UNITS, QueueSpec, Route, Selection, Step, Workflow
from careline.routing.simulation import (
    POLICIES,
    Arrival,
    Duration,
    HandleTimes,
    Shift,
    StaffingPlan,
    Team,
    summarise,
)
from careline.routing.simulation import simulate as run_policy

if TYPE_CHECKING:
    from careline.triage.model import CategoryModel
    from careline.triage.pipeline import Triage

console = Console(stderr=True)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^(\d{1,2}):(\d\d)$")
_TOP_KEYS = (
    "queues", "default_queue", "routes", "teams", "handle_time", "patience", "think_time", "offer_timeout_seconds",
    "sla_warning_fraction", "sticky_window_seconds", "wrap_up_seconds", "units", "high_priority_threshold",
    "categories",
)  # fmt: skip
_QUEUE_KEYS = ("id", "name", "target", "first_response_minutes", "next_response_minutes", "selection", "hours")


class ConfigError(InvalidInput):
    """A staffing plan that cannot be used: the message starts with the key at fault."""


def simulate(
    ctx: typer.Context,
    trace: Annotated[Path, typer.Option("--trace", help="arrivals: a TWCS or airline tweets CSV")],
    config: Annotated[Path, typer.Option("--config", help="the staffing plan (YAML, see examples/staffing.yaml)")],
    as_json: Annotated[bool, typer.Option("--json", help="print the comparison as JSON")] = False,
    policy: Annotated[
        list[str] | None, typer.Option("--policy", help=f"one of {', '.join(POLICIES)} (repeatable; default all)")
    ] = None,
    seed: Annotated[int, typer.Option(help="seed of handle times, patience and think times")] = 7,
    limit: Annotated[int | None, typer.Option(min=1, help="only the first N arrivals")] = None,
) -> None:
    """Simulate routing policies over an arrival trace with a staffing plan; compare service levels."""
    names = list(dict.fromkeys(policy or POLICIES))
    unknown = [n for n in names if n not in POLICIES]
    if unknown:
        _fail(f"unknown policy {unknown[0]!r} (one of {', '.join(POLICIES)})")
    try:
        plan, categories, summary = load_plan(config)
    except ConfigError as error:
        _fail(f"{config}: {error}")
    messages, info = load_trace(trace, limit)
    arrivals, triage_note = triage(ctx, messages, categories)
    info.update(_trace_summary(arrivals, plan.high_priority_threshold), triage=triage_note)
    console.print(
        f"{len(arrivals)} arrivals from {trace.name} ({info['format']}, {info['rejected']} records rejected, "
        f"{info['duplicates_skipped']} repeated posts skipped); "
        f"triage: sentiment by {triage_note['sentiment']}, categories {triage_note['categories']}"
    )
    results: dict[str, dict[str, Any]] = {}
    seconds: dict[str, float] = {}
    with _progress() as progress:
        for name in names:
            task = progress.add_task(f"{name:<16}", total=len(arrivals))
            started = time.perf_counter()
            result = run_policy(plan, arrivals, name, seed=seed, on_progress=_mover(progress, task))
            seconds[name] = round(time.perf_counter() - started, 2)
            progress.update(task, completed=len(arrivals))
            if result.violations:  # the engine's invariants: a broken one makes every number suspect
                typer.echo(
                    f"error: policy {name}: the routing engine broke an invariant: {result.violations[0]}", err=True
                )
                raise typer.Exit(1)
            results[name] = summarise(result)
    summary.update(seed=seed)
    if as_json:
        print(json.dumps({"policies": results, "trace": info, "config": summary}))
        return
    _print_tables(results, plan.high_priority_threshold)
    console.print("simulated in " + ", ".join(f"{n} {s} s" for n, s in seconds.items()))


def _mover(progress: Progress, task: Any) -> Callable[[int], None]:
    return lambda done: progress.update(task, completed=done)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


# -- the trace ------------------------------------------------------------------------------------------------------
def load_trace(path: Path, limit: int | None) -> tuple[list[tuple[datetime, InboundMessage]], dict[str, Any]]:
    """The inbound customer posts of a TWCS or airline file in arrival order; malformed records are reported."""
    fmt = _trace_format(path)
    try:
        parsed = parse_trace(path, fmt)
    except (ValueError, UnicodeDecodeError, OSError) as error:
        _fail(f"{path}: {error}")
    for reject in parsed.rejected[:10]:
        console.print(f"[yellow]skipped[/] {escape(path.name)} line {reject.line}: {escape(reject.reason)}")
    if len(parsed.rejected) > 10:
        console.print(f"[yellow]skipped[/] {len(parsed.rejected) - 10} more malformed records")
    seen: set[str] = set()
    duplicates = 0
    inbound: list[tuple[datetime, InboundMessage]] = []
    for message in parsed.messages:
        if message.direction != "inbound" or message.created_at is None:
            continue
        if message.platform_message_id in seen:  # the airline file repeats some tweets: one task each
            duplicates += 1
            continue
        seen.add(message.platform_message_id)
        inbound.append((message.created_at, message))
    inbound.sort(key=lambda pair: pair[0])
    if limit is not None:
        inbound = inbound[:limit]
    if not inbound:
        _fail(f"{path}: no inbound posts with a time to simulate")
    info = {
        "path": str(path),
        "format": fmt,
        "records": len(parsed.messages) + len(parsed.rejected),
        "rejected": len(parsed.rejected),
        "duplicates_skipped": duplicates,
    }
    return inbound, info


def _trace_format(path: Path) -> str:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            header = [h.strip() for h in next(csv.reader(handle), [])]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        _fail(f"{path}: cannot read the trace ({error})")
    if "created_at" in header and "inbound" in header:
        return "twcs"
    if "tweet_created" in header:
        return "airline"
    _fail(f"{path}: not a TWCS (created_at, inbound) or airline (tweet_created) CSV; header {','.join(header)}")


def triage(
    ctx: typer.Context, messages: Sequence[tuple[datetime, InboundMessage]], categories: Sequence[Mapping[str, Any]]
) -> tuple[list[Arrival], dict[str, str]]:
    """Every post through the real triage: trained models when `careline train` wrote them, else VADER."""
    from careline.triage.model import Post

    engine, note = _triage(ctx, categories)
    posts = [
        Post(
            text=m.text,
            channel=m.channel,
            public=m.visibility == "public",
            account=m.account,
            followers=m.author_followers,
            verified=m.author_verified,
            engagements=m.engagements,
            posted_at=m.created_at,
        )
        for _, m in messages
    ]
    verdicts = engine.assess_many(posts)
    arrivals = [
        Arrival(
            id=m.platform_message_id,
            at=at,
            channel=m.channel,
            priority=v.priority.score,
            sentiment=v.sentiment,
            attributes={
                "category": v.category,
                "language": v.language,
                "angry": v.angry,
                "public": m.visibility == "public",
                "action": v.action.value,
            },
            customer_id=m.author_id,
            follow_up=m.reply_to is not None,
        )
        for (at, m), v in zip(messages, verdicts, strict=True)
    ]
    return arrivals, note


def _triage(ctx: typer.Context, categories: Sequence[Mapping[str, Any]]) -> tuple[Triage, dict[str, str]]:
    from careline.triage.pipeline import Triage, load_models

    directory = ctx.obj.settings().home / "models" / "triage"
    try:
        sentiment, trained_categories = load_models(directory)
        sentiment_note = (
            f"the trained model in {directory}"
            if sentiment is not None
            else f"VADER (no trained models in {directory})"
        )
    except (ValueError, OSError) as error:
        sentiment, trained_categories = None, None
        sentiment_note = f"VADER (the models in {directory} cannot be used: {error})"
    category_model: CategoryModel | None = trained_categories
    category_note = "from the trained reason model" if trained_categories is not None else "none"
    if categories:
        category_model = _learner(categories)
        category_note = f"from the plan's {len(categories)} categories"
    engine = Triage(sentiment=sentiment, category=category_model)
    engine.language.load()
    return engine, {"sentiment": sentiment_note, "categories": category_note}


def _learner(categories: Sequence[Mapping[str, Any]]) -> CategoryModel:
    """The plan's own categories, learned the way the product learns a contact center's (triage/categories.py)."""
    from careline.triage.categories import CategoryLearner
    from careline.triage.model import Category

    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    learner = CategoryLearner(
        [
            Category(
                id=c["name"],
                name=c["name"],
                created_at=epoch,
                description=c.get("description", ""),
                keywords=tuple(c.get("keywords", ())),
            )
            for c in categories
        ]
    )
    learner.fit([])
    return learner


def _trace_summary(arrivals: Sequence[Arrival], threshold: float) -> dict[str, Any]:
    hours = Counter(a.at.strftime("%Y-%m-%d %H:00") for a in arrivals)
    busiest = max(hours.items(), key=lambda item: (item[1], item[0]))
    days = Counter(a.at.date().isoformat() for a in arrivals)
    return {
        "arrivals": len(arrivals),
        "first": arrivals[0].at.isoformat(),
        "last": arrivals[-1].at.isoformat(),
        "days": len(days),
        "busiest_day": max(days.items(), key=lambda item: (item[1], item[0]))[0],
        "busiest_hour": {"hour": busiest[0], "arrivals": busiest[1]},
        "sentiment": dict(Counter(a.sentiment for a in arrivals)),
        "high_priority_negative": sum(1 for a in arrivals if a.sentiment == "negative" and a.priority >= threshold),
    }


# -- the plan -------------------------------------------------------------------------------------------------------
def load_plan(path: Path) -> tuple[StaffingPlan, list[dict[str, Any]], dict[str, Any]]:
    """The plan of a YAML file, its triage categories, and a summary of it; ConfigError names the key at fault."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read the file ({error.strerror or error})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ConfigError(f"not valid YAML: {' '.join(str(error).split())}") from None
    spec = _mapping(data, "the plan")
    _known(spec, _TOP_KEYS, "")
    queues = _queues(spec.get("queues"))
    ids = [q.id for q in queues]
    default = spec.get("default_queue", ids[0])
    if default not in ids:
        raise ConfigError(f"default_queue: unknown queue {default!r} (queues: {', '.join(ids)})")
    workflow = Workflow(
        routes=_routes(spec.get("routes", []), ids),
        default_queue_id=default,
        offer_timeout_seconds=_integer(spec.get("offer_timeout_seconds", 60), "offer_timeout_seconds", 1),
        sticky_window_seconds=_integer(spec.get("sticky_window_seconds", 7 * 86400), "sticky_window_seconds", 0),
        sla_warning_fraction=_number(spec.get("sla_warning_fraction", 0.8), "sla_warning_fraction", 0.01, 1.0),
    )
    teams = _teams(spec.get("teams"))
    plan = StaffingPlan(
        queues=queues,
        workflow=workflow,
        teams=teams,
        handle_time=_handle_times(spec.get("handle_time")),
        patience=None if spec.get("patience") is None else _duration(spec["patience"], "patience"),
        think_time=_duration(spec.get("think_time", {"distribution": "fixed", "seconds": 0}), "think_time"),
        wrap_up_seconds=_channel_numbers(spec.get("wrap_up_seconds", {}), "wrap_up_seconds", 0),
        units=_channel_numbers(spec.get("units", dict(DEFAULT_UNITS)), "units", 1),
        high_priority_threshold=_number(spec.get("high_priority_threshold", 60), "high_priority_threshold", 0, 100),
    )
    summary = {
        "path": str(path),
        "queues": {q.id: {"first_response_minutes": q.first_response_seconds / 60} for q in queues},
        "routes": [r.name for r in workflow.routes],
        "teams": {t.name: {"agents": t.agents, "shift": _shift_text(t.shift)} for t in teams},
        "agents": sum(t.agents for t in teams),
        "high_priority_threshold": plan.high_priority_threshold,
    }
    return plan, _categories(spec.get("categories", [])), summary


def _queues(value: Any) -> tuple[QueueSpec, ...]:
    items = _list(value, "queues", minimum=1)
    queues: list[QueueSpec] = []
    for i, item in enumerate(items):
        where = f"queues[{i}]"
        spec = _mapping(item, where)
        _known(spec, _QUEUE_KEYS, where)
        queue_id = _text(spec.get("id"), f"{where}.id")
        if queue_id in {q.id for q in queues}:
            raise ConfigError(f"{where}.id: two queues are named {queue_id!r}")
        selection = spec.get("selection", Selection.LONGEST_IDLE.value)
        if selection not in {s.value for s in Selection}:
            raise ConfigError(f"{where}.selection: one of {', '.join(s.value for s in Selection)}, not {selection!r}")
        minutes = _number(spec.get("first_response_minutes", 60), f"{where}.first_response_minutes", 0.01)
        fields: dict[str, Any] = {"first_response_seconds": round(minutes * 60), "selection": Selection(selection)}
        if spec.get("next_response_minutes") is not None:
            minutes = _number(spec["next_response_minutes"], f"{where}.next_response_minutes", 0.01)
            fields["next_response_seconds"] = round(minutes * 60)
        try:
            fields["hours"] = BusinessHours.parse(spec.get("hours"))
        except InvalidInput as error:
            raise ConfigError(f"{where}.hours: {error}") from None
        target = _text(spec.get("target", "true"), f"{where}.target")
        name = _text(spec.get("name", queue_id), f"{where}.name")
        queues.append(_built(f"{where}.target", QueueSpec.of, queue_id, name, target, **fields))
    return tuple(queues)


def _routes(value: Any, queue_ids: Sequence[str]) -> tuple[Route, ...]:
    routes: list[Route] = []
    for i, item in enumerate(_list(value, "routes")):
        where = f"routes[{i}]"
        spec = _mapping(item, where)
        _known(spec, ("name", "when", "steps"), where)
        name = _text(spec.get("name"), f"{where}.name")
        if name in {r.name for r in routes}:
            raise ConfigError(f"{where}.name: two routes are named {name!r}")
        steps: list[Step] = []
        for j, raw in enumerate(_list(spec.get("steps"), f"{where}.steps", minimum=1)):
            at = f"{where}.steps[{j}]"
            step = _mapping(raw, at)
            _known(step, ("queue", "timeout_minutes", "target", "priority_boost"), at)
            queue = step.get("queue")
            if queue not in queue_ids:
                raise ConfigError(f"{at}.queue: unknown queue {queue!r} (queues: {', '.join(queue_ids)})")
            timeout = step.get("timeout_minutes")
            seconds = None if timeout is None else round(_number(timeout, f"{at}.timeout_minutes", 0.01) * 60)
            target = None if step.get("target") is None else _text(step["target"], f"{at}.target")
            boost = _number(step.get("priority_boost", 0), f"{at}.priority_boost", -100, 100)
            steps.append(_built(f"{at}.target", Step.of, str(queue), seconds, target, priority_boost=boost))
        when = _text(spec.get("when", "true"), f"{where}.when")
        routes.append(_built(f"{where}.when", Route.of, name, when, steps))
    return tuple(routes)


def _teams(value: Any) -> tuple[Team, ...]:
    teams: list[Team] = []
    for i, item in enumerate(_list(value, "teams", minimum=1)):
        where = f"teams[{i}]"
        spec = _mapping(item, where)
        _known(spec, ("name", "agents", "shift", "days", "attributes", "capacity", "units"), where)
        name = _text(spec.get("name"), f"{where}.name")
        if name in {t.name for t in teams}:
            raise ConfigError(f"{where}.name: two teams are named {name!r}")
        attributes = _mapping(spec.get("attributes", {}), f"{where}.attributes")
        allowed = sorted(AGENT_ATTRIBUTES - {"id", "name"})
        _known(attributes, allowed, f"{where}.attributes")
        capacity = _channel_numbers(spec.get("capacity", {}), f"{where}.capacity", 0)
        teams.append(
            Team(
                name=name,
                agents=_integer(spec.get("agents"), f"{where}.agents", 0),
                shift=_shift(spec.get("shift"), spec.get("days"), where),
                attributes=dict(attributes),
                capacity=capacity,
                units=_integer(spec.get("units", 100), f"{where}.units", 1),
            )
        )
    return tuple(teams)


def _shift(value: Any, days: Any, where: str) -> Shift:
    """``always`` or ``HH:MM-HH:MM`` in UTC (an end at or before the start is the next day)."""
    weekdays = frozenset(range(7))
    if days is not None:
        names = _list(days, f"{where}.days", minimum=1)
        unknown = [d for d in names if not isinstance(d, str) or d.lower()[:3] not in DAYS]
        if unknown:
            raise ConfigError(f"{where}.days: unknown day {unknown[0]!r} (mon .. sun)")
        weekdays = frozenset(DAYS.index(d.lower()[:3]) for d in names)
    if value == "always":
        return Shift(always=True, days=weekdays)
    start, sep, end = str(value).partition("-")
    if not isinstance(value, str) or not sep:
        raise ConfigError(f'{where}.shift: "always" or "HH:MM-HH:MM" in UTC, not {value!r}')
    return Shift(_clock(start, f"{where}.shift"), _clock(end, f"{where}.shift"), weekdays)


def _clock(text: str, where: str) -> int:
    found = _CLOCK.match(text.strip())
    if not found or int(found[1]) > 24 or int(found[2]) > 59:
        raise ConfigError(f"{where}: {text.strip()!r} is not a time like 08:00")
    return (int(found[1]) * 60 + int(found[2])) % 1440


def _shift_text(shift: Shift) -> str:
    if shift.always:
        return "always"
    return f"{shift.start // 60:02d}:{shift.start % 60:02d}-{shift.end // 60:02d}:{shift.end % 60:02d}"


def _handle_times(value: Any) -> HandleTimes:
    spec = _mapping(value, "handle_time")
    _known(spec, ("default", "by_channel", "by_category"), "handle_time")
    if "default" not in spec:
        raise ConfigError("handle_time.default: missing (the distribution used when no channel or category has one)")
    by: dict[str, dict[str, Duration]] = {}
    for key in ("by_channel", "by_category"):
        given = _mapping(spec.get(key, {}), f"handle_time.{key}")
        by[key] = {str(k): _duration(v, f"handle_time.{key}.{k}") for k, v in given.items()}
    return HandleTimes(_duration(spec["default"], "handle_time.default"), by["by_channel"], by["by_category"])


_DURATION_KEYS = {"fixed": ("",), "exponential": ("mean",), "lognormal": ("median", "p90")}


def _duration(value: Any, where: str) -> Duration:
    """``{distribution: lognormal, median_minutes: 6, p90_minutes: 15}``; any amount in _minutes or _seconds."""
    spec = _mapping(value, where)
    kind = spec.get("distribution")
    if kind not in _DURATION_KEYS:
        raise ConfigError(f"{where}.distribution: one of {', '.join(_DURATION_KEYS)}, not {kind!r}")
    amounts: dict[str, float] = {}
    allowed = ["distribution"]
    for name in _DURATION_KEYS[kind]:
        options = [f"{name}_minutes", f"{name}_seconds"] if name else ["minutes", "seconds"]
        allowed += options
        given = [o for o in options if o in spec]
        if len(given) != 1:
            raise ConfigError(f"{where}: a {kind} duration needs exactly one of {' or '.join(options)}")
        scale = 60 if given[0].endswith("minutes") else 1
        amounts[name or "value"] = _number(spec[given[0]], f"{where}.{given[0]}", 0) * scale
    _known(spec, allowed, where)
    try:
        if kind == "fixed":
            return Duration.fixed(amounts["value"])
        if kind == "exponential":
            return Duration.exponential(amounts["mean"])
        return Duration.lognormal(amounts["median"], amounts["p90"])
    except InvalidInput as error:
        raise ConfigError(f"{where}: {error}") from None


def _categories(value: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, item in enumerate(_list(value, "categories")):
        where = f"categories[{i}]"
        spec = _mapping(item, where)
        _known(spec, ("name", "description", "keywords"), where)
        keywords = [_text(k, f"{where}.keywords") for k in _list(spec.get("keywords", []), f"{where}.keywords")]
        description = _text(spec.get("description", "-"), f"{where}.description")
        out.append({"name": _text(spec.get("name"), f"{where}.name"), "description": description, "keywords": keywords})
    return out


def _channel_numbers(value: Any, where: str, minimum: int) -> dict[str, int]:
    return {str(k): _integer(v, f"{where}.{k}", minimum) for k, v in _mapping(value, where).items()}


def _built(where: str, build: Callable[..., Any], *args: Any, **fields: Any) -> Any:
    """A model object from its own constructor; an expression's error comes back with its column."""
    try:
        return build(*args, **fields)
    except InvalidInput as error:
        raise ConfigError(f"{where}: {error}") from None


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: must be a mapping of keys, not {_show(value)}")
    return value


def _list(value: Any, where: str, minimum: int = 0) -> list[Any]:
    if value is None and minimum == 0:
        return []
    if not isinstance(value, list) or len(value) < minimum:
        raise ConfigError(f"{where}: must be a list{f' of at least {minimum}' if minimum else ''}, not {_show(value)}")
    return value


def _known(spec: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    for key in spec:
        if key not in allowed:
            prefix = f"{where}." if where else ""
            raise ConfigError(f"{prefix}{key}: unknown key (expected {', '.join(allowed)})")


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: must be a non-empty string, not {_show(value)}")
    return value


def _number(value: Any, where: str, minimum: float, maximum: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where}: must be a number, not {_show(value)}")
    if not minimum <= value <= maximum:
        bounds = f"at least {minimum:g}" if maximum == math.inf else f"from {minimum:g} to {maximum:g}"
        raise ConfigError(f"{where}: must be {bounds}, not {value:g}")
    return float(value)


def _integer(value: Any, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}: must be a whole number, not {_show(value)}")
    if value < minimum:
        raise ConfigError(f"{where}: must be at least {minimum}, not {value}")
    return value


def _show(value: Any) -> str:
    return "nothing" if value is None else repr(value)


# -- the tables -----------------------------------------------------------------------------------------------------
def _print_tables(results: Mapping[str, Mapping[str, Any]], threshold: float) -> None:
    out = Console()
    main = Table(title="Policies compared (same arrivals, staffing and seed)")
    columns = (
        "policy", "service level", f"negative & priority >= {threshold:g} within target", "ASA min",
        "first response p50 / p90 min", "abandoned", "occupancy all / busiest day", "escalations", "SLA breaches",
    )  # fmt: skip
    for column in columns:
        main.add_column(column, justify="left" if column == "policy" else "right")
    for name, m in results.items():
        busiest = m.get("busiest_day", {})
        main.add_row(
            name,
            _pct(m["service_level"]),
            f"{_pct(m['high_priority_within_target'])} of {m['high_priority_offered']}",
            _num(m["asa_min"]),
            f"{_num(m['first_response_p50_min'])} / {_num(m['first_response_p90_min'])}",
            _pct(m["abandonment"]),
            f"{_pct(m['occupancy'])} / {_pct(busiest.get('occupancy'))}",
            str(m["escalations"]),
            str(m["sla_breaches"]),
        )
    out.print(main)
    for key, title in (("by_queue", "By entry queue"), ("by_priority", "By priority band")):
        out.print(_breakdown(results, key, title))
    first = next(iter(results.values()))
    peak_day = first.get("busiest_day", {}).get("date", "-")
    teams = Table(title=f"Occupancy by team: all days · busiest day ({peak_day})")
    teams.add_column("team")
    teams.add_column("agent hours", justify="right")
    for name in results:
        teams.add_column(name, justify="right")
    for team, row in first["by_team"].items():
        cells = [
            f"{_pct(m['by_team'][team]['occupancy'])} · {_pct(m['by_team'][team]['busiest_day_occupancy'])}"
            for m in results.values()
        ]
        teams.add_row(team, _num(row["agent_hours"]), *cells)
    out.print(teams)


def _breakdown(results: Mapping[str, Mapping[str, Any]], key: str, title: str) -> Table:
    table = Table(title=f"{title}: service level · first response p90 min · abandoned")
    table.add_column(key.removeprefix("by_"))
    table.add_column("posts", justify="right")
    for name in results:
        table.add_column(name, justify="right")
    first = next(iter(results.values()))
    for group, row in first[key].items():
        cells = [
            f"{_pct(m[key][group]['service_level'])} · {_num(m[key][group]['first_response_p90_min'])} · "
            f"{_pct(m[key][group]['abandonment'])}"
            for m in results.values()
        ]
        table.add_row(group, str(row["offered"]), *cells)
    return table


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
