"""What every CLI command shares: settings from options and environment, and the wired application."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import typer
from pydantic import ValidationError
from sqlalchemy import exc as sa_exc

from careline.adapters.secret_box import SecretKeyInvalid
from careline.bootstrap import Careline, bootstrap
from careline.config import Settings

# The labelled tweets `careline train` learns from by default, and `careline classify` builds its first models
# from when it finds none: the datasets sit beside the project (../shared/data).
DEFAULT_TRAINING_DATA = Path("../shared/data/airline_tweets.csv")


@dataclasses.dataclass
class CliState:
    home: Path | None = None
    database_url: str | None = None

    def settings(self) -> Settings:
        overrides: dict[str, object] = {}
        if self.home is not None:
            overrides["home"] = self.home
        if self.database_url is not None:
            overrides["database_url"] = self.database_url
        try:
            return Settings(**overrides)  # type: ignore[arg-type]
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            raise typer.BadParameter(problems) from error

    def app(self) -> Careline:
        try:
            return bootstrap(self.settings())
        except sa_exc.OperationalError as error:
            raise typer.BadParameter(f"cannot open the database: {error.orig}") from error
        except SecretKeyInvalid as error:  # its message names the rule, never the key
            raise typer.BadParameter(str(error)) from None
