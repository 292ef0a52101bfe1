"""Canned responses kept by supervisors, on SQLite and PostgreSQL (canned/handlers.py)."""

from __future__ import annotations

import pytest

from careline.canned import commands as cmd
from careline.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from integration.support import Desk


def test_supervisors_keep_them_agents_only_use_them(desk: Desk) -> None:
    boss = desk.agent("boss", role="supervisor")
    ana = desk.agent("ana")
    saved = desk.app.handle(cmd.SaveCannedResponse(title="refund", text="Hi {customer_name}, done.", actor_id=boss.id))
    with pytest.raises(Forbidden):
        desk.app.handle(cmd.SaveCannedResponse(title="mine", text="Hi", actor_id=ana.id))
    with pytest.raises(Conflict, match="already titled"):
        desk.app.handle(cmd.SaveCannedResponse(title="refund", text="again", actor_id=boss.id))
    with pytest.raises(InvalidInput, match="unknown variable"):
        desk.app.handle(cmd.SaveCannedResponse(title="typo", text="Hi {name}", actor_id=boss.id))

    desk.app.handle(
        cmd.SaveCannedResponse(
            title="refund", text="Hi {customer_name}, refunded.", actor_id=boss.id, canned_id=saved.id
        )
    )
    with desk.app.uow(read_only=True) as uow:
        assert [(c.title, c.text) for c in uow.canned.all()] == [("refund", "Hi {customer_name}, refunded.")]

    desk.app.handle(cmd.DeleteCannedResponse(canned_id=saved.id, actor_id=boss.id))
    with pytest.raises(NotFound):
        desk.app.handle(cmd.DeleteCannedResponse(canned_id=saved.id, actor_id=boss.id))
    with desk.app.uow(read_only=True) as uow:
        assert uow.canned.all() == []
