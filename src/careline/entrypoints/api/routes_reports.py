"""Reports over the event log, the same JSON as `careline report --json` (docs/api.md#reports)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from careline.entrypoints.api.deps import CarelineDep, CurrentAgent

router = APIRouter(tags=["reports"])


@router.get("/reports/summary")
def summary(careline: CarelineDep, _agent: CurrentAgent) -> dict[str, Any]:
    """Volumes, first response time, service level, resolution and backlog."""
    return careline.reports.summary()
