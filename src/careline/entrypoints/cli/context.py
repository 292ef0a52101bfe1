"""What every CLI command shares: settings from options and environment, and the wired application."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from careline.bootstrap import Careline, bootstrap
from careline.config import Settings


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
        return Settings(**overrides)  # type: ignore[arg-type]

    def app(self) -> Careline:
        return bootstrap(self.settings())
