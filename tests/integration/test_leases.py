"""One process of many sweeps the routing timers: the holder of the sweep's lease (routing/handlers.py), on SQLite
and PostgreSQL. A second holder is refused while the lease runs; a holder that stops renewing it is replaced."""

from __future__ import annotations

from datetime import timedelta

from careline.bootstrap import Careline
from careline.routing.handlers import SWEEP_LEASE
from integration.support import Desk, ManualClock
from integration.test_router import luggage_desk, offers, online, pending, post, sweep


def take(app: Careline, holder: str, clock: ManualClock, seconds: float = 10) -> bool:
    with app.uow() as uow:
        now = clock()
        held = uow.routing.take_lease("chore", holder, now, now + timedelta(seconds=seconds))
        uow.commit()
    return held


def test_one_holder_at_a_time_until_its_lease_runs_out(clocked_app: Careline, clock: ManualClock) -> None:
    assert take(clocked_app, "first", clock)
    assert not take(clocked_app, "second", clock)
    clock.advance(seconds=9)
    assert take(clocked_app, "first", clock)  # renewed: ten more seconds from now
    clock.advance(seconds=9)
    assert not take(clocked_app, "second", clock)
    clock.advance(seconds=2)  # the first stopped renewing: its lease ran out
    assert take(clocked_app, "second", clock)
    assert not take(clocked_app, "first", clock)
    with clocked_app.uow() as uow:
        uow.routing.end_lease("chore", "first")  # not the holder: nothing happens
        uow.commit()
    assert not take(clocked_app, "first", clock)
    with clocked_app.uow() as uow:
        uow.routing.end_lease("chore", "second")  # handed over at once
        uow.commit()
    assert take(clocked_app, "first", clock)


def test_a_router_sweeps_only_while_it_holds_the_sweep_lease(desk: Desk) -> None:
    people = luggage_desk(desk)
    online(desk, people["expert"])
    bag = post(desk, "luggage never arrived")
    assert [o.conversation_id for o in pending(desk, people["expert"])] == [bag]

    with desk.app.uow() as uow:  # another router process sweeps, and its lease runs for a minute
        now = desk.clock()
        assert uow.routing.take_lease(SWEEP_LEASE, "router-elsewhere", now, now + timedelta(seconds=60))
        uow.commit()
    sweep(desk, seconds=30)  # the offer is due, but this process is not the sweeper
    assert offers(desk, bag)[0].status == "pending"
    sweep(desk, seconds=31)  # the other one stopped renewing: its lease ran out, this router takes over
    assert offers(desk, bag)[0].status == "expired"

    desk.app.router.close()  # hands the lease over at once
    with desk.app.uow() as uow:
        now = desk.clock()
        assert uow.routing.take_lease(SWEEP_LEASE, "router-elsewhere", now, now + timedelta(seconds=60))
        uow.commit()
