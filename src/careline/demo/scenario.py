"""The demo's world: a fresh database, skill queues fitting the sample, simulated agents and a human log-in.

See docs/demo.md. Setup runs in-process through the same commands as `careline init`; everything after
it (traffic, agent work, reports) goes over HTTP.
"""

from __future__ import annotations

import dataclasses
import secrets
from importlib import resources
from pathlib import Path

from careline.agents import commands as cmd
from careline.bootstrap import Careline
from careline.entrypoints.cli.setup import ensure_admin, ensure_defaults

SAMPLE = "sample_twcs.csv"
SAMPLE_FORMAT = "twcs"
DOMAIN = "careline.demo"
SKILLS = ("billing", "travel", "tech")
# Keywords chosen from what the bundled sample's customers actually write about.
QUEUES = (
    cmd.CreateQueue(
        name="billing", rank=10, required_skills=frozenset({"billing"}), first_response_target_seconds=60,
        keywords=("bill", "billing", "billed", "charge", "charged", "charges", "refund", "payment", "paid", "credit",
                  "fee", "subscription", "invoice", "money"),
    ),
    cmd.CreateQueue(
        name="travel", rank=20, required_skills=frozenset({"travel"}), first_response_target_seconds=60,
        keywords=("flight", "flights", "baggage", "bag", "bags", "luggage", "delayed", "delay", "cancelled",
                  "airport", "gate", "seat", "boarding", "booking", "booked", "train", "trip", "hotel"),
    ),
    cmd.CreateQueue(
        name="tech", rank=30, required_skills=frozenset({"tech"}), first_response_target_seconds=60,
        keywords=("app", "update", "wifi", "internet", "error", "crash", "bug", "login", "iphone", "ios",
                  "laptop", "website", "slow", "battery", "download", "signal", "outage"),
    ),
)
BOT_NAMES = ("Ada", "Ben", "Cleo", "Dev", "Eve", "Finn", "Gus", "Hana", "Ivo", "Jun")
BOT_CAPACITY = 4
HUMAN_CAPACITY = 5


@dataclasses.dataclass(frozen=True)
class Login:
    name: str
    email: str
    password: str


@dataclasses.dataclass(frozen=True)
class DemoWorld:
    admin: Login
    human: Login
    bots: tuple[Login, ...]


def sample_path() -> Path:
    """The bundled sample, as installed (wheel or editable)."""
    return Path(str(resources.files("careline.demo").joinpath(SAMPLE)))


MARKER = "careline-demo.txt"


class NotADemoHome(Exception):
    """``home`` holds a database the demo did not create: it is never wiped."""


def wipe_database(home: Path) -> None:
    """Remove the demo's SQLite files (only those, and only in a home the demo made) and mark the home."""
    database = home / "careline.db"
    if database.exists() and not (home / MARKER).exists():
        raise NotADemoHome(f"{home} holds a Careline database that the demo did not create; choose another --home")
    home.mkdir(parents=True, exist_ok=True)
    for name in ("careline.db", "careline.db-wal", "careline.db-shm", "careline.db-journal"):
        (home / name).unlink(missing_ok=True)
    (home / MARKER).write_text("made by `careline demo`, which wipes this directory's database at each start\n")


def bot_skills(index: int, count: int) -> frozenset[str]:
    """Two skills each, rotating, so that any two or more agents cover every queue; a lone agent has all."""
    if count == 1:
        return frozenset(SKILLS)
    return frozenset({SKILLS[index % len(SKILLS)], SKILLS[(index + 1) % len(SKILLS)]})


def bot_name(index: int) -> str:
    base = BOT_NAMES[index % len(BOT_NAMES)]
    return base if index < len(BOT_NAMES) else f"{base}{index // len(BOT_NAMES) + 1}"


def build_world(careline: Careline, agents: int) -> DemoWorld:
    """Queues, an admin, ``agents`` simulated agents and one human agent, each with a fresh password."""
    ensure_defaults(careline)
    admin = Login("Administrator", f"admin@{DOMAIN}", secrets.token_urlsafe(12))
    ensure_admin(careline, admin.email, admin.password)
    for queue in QUEUES:
        careline.handle(queue)
    bots = []
    for index in range(agents):
        name = bot_name(index)
        login = Login(f"{name} (simulated)", f"{name.lower()}.bot@{DOMAIN}", secrets.token_urlsafe(12))
        careline.handle(
            cmd.CreateAgent(
                name=login.name, email=login.email, password=login.password,
                skills=bot_skills(index, agents), capacity=(("x", BOT_CAPACITY),),
            )
        )
        bots.append(login)
    human = Login("You", f"you@{DOMAIN}", secrets.token_urlsafe(9))
    careline.handle(
        cmd.CreateAgent(
            name=human.name, email=human.email, password=human.password,
            skills=frozenset(SKILLS), capacity=(("x", HUMAN_CAPACITY),),
        )
    )
    return DemoWorld(admin, human, tuple(bots))
