"""Reports over the event log, the same JSON as `careline report --json` (docs/api.md#reports)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from careline.entrypoints.api.deps import CarelineDep, CurrentAgent
from careline.kernel.errors import InvalidInput

router = APIRouter(tags=["reports"])


@router.get("/reports/summary")
def summary(
    careline: CarelineDep,
    _agent: CurrentAgent,
    since: Annotated[AwareDatetime | None, Query(description="conversations created at or after (ISO 8601)")] = None,
    until: Annotated[AwareDatetime | None, Query(description="conversations created before (ISO 8601)")] = None,
) -> dict[str, Any]:
    """Volumes, first response time, service level, resolution and backlog, over conversations created in
    [since, until) — all of them when neither is given."""
    if since is not None and until is not None and since >= until:
        raise InvalidInput("since must be before until")
    return careline.reports.summary(since=since, until=until)
