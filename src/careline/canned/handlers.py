"""Saving and deleting canned responses (supervisors and admins)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from careline.agents.model import Role
from careline.canned import commands as cmd
from careline.canned.model import CannedResponse, check
from careline.kernel.clock import Clock
from careline.kernel.errors import Conflict, Forbidden, NotFound
from careline.kernel.events import Event
from careline.kernel.ids import new_id
from careline.unit_of_work import UnitOfWork

Result = tuple[Any, list[Event]]


class CannedHandlers:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    def commands(self) -> dict[type, Callable[[Any], Result]]:
        return {cmd.SaveCannedResponse: self.save, cmd.DeleteCannedResponse: self.delete}

    @staticmethod
    def _manager(uow: UnitOfWork, actor_id: str) -> None:
        if uow.agents.get(actor_id).role not in (Role.ADMIN, Role.SUPERVISOR):
            raise Forbidden("canned responses are kept by supervisors and admins")

    def save(self, c: cmd.SaveCannedResponse) -> Result:
        title, text = check(c.title, c.text)
        with self._uow() as uow:
            self._manager(uow, c.actor_id)
            same_title = uow.canned.by_title(title)
            if same_title is not None and same_title.id != c.canned_id:
                raise Conflict(f"a canned response is already titled {title!r}")
            if c.canned_id is None:
                canned = CannedResponse(new_id("can"), title, text, self._clock(), c.actor_id)
                uow.canned.add(canned)
            else:
                canned = uow.canned.get(c.canned_id)
                canned.title, canned.text = title, text
                uow.canned.save(canned)
            return canned, uow.commit()

    def delete(self, c: cmd.DeleteCannedResponse) -> Result:
        with self._uow() as uow:
            self._manager(uow, c.actor_id)
            if not uow.canned.delete(c.canned_id):
                raise NotFound(f"canned response {c.canned_id} does not exist")
            return None, uow.commit()
