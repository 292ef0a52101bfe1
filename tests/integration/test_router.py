"""The database-backed router on SQLite and PostgreSQL: targets and proficiency, step timeouts and escalation,
offers that are rejected or expire, sticky routing, weighted capacity across channels, wrap-up, SLA events and
the explanation of every decision (routing/handlers.py)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from careline.adapters.db import tables as t
from careline.agents import commands as admin
from careline.agents.model import Agent
from careline.conversations import commands as cmd
from careline.routing import commands as routing
from integration.support import Desk


def offers(desk: Desk, conversation_id: str | None = None) -> list[Any]:
    where = [] if conversation_id is None else [t.offers.c.conversation_id == conversation_id]
    return desk.rows(t.offers, *where, order_by=t.offers.c.offered_at)


def pending(desk: Desk, agent: Agent) -> list[Any]:
    o = t.offers.c
    return desk.rows(t.offers, o.agent_id == agent.id, o.status == "pending", order_by=o.offered_at)


def profile(desk: Desk, agent: Agent, **fields: Any) -> None:
    desk.app.handle(admin.SetRoutingProfile(agent_id=agent.id, **fields))


def online(desk: Desk, agent: Agent, status: str = "online") -> None:
    desk.app.handle(admin.SetAgentStatus(agent_id=agent.id, status=status))


def sweep(desk: Desk, **advance: float) -> None:
    desk.clock.advance(**advance)
    desk.app.bus.publish(desk.app.router.sweep())


def post(desk: Desk, text: str, **fields: Any) -> str:
    desk.clock.advance(seconds=1)
    return desk.conversation_of(desk.ingest(desk.message(text, **fields)))


def luggage_desk(desk: Desk) -> dict[str, Agent]:

    desk.queue("luggage", keywords=("suitcase", "luggage"))
    desk.queue("supervisors")
    queues = {name: queue.id for name, queue in desk.queues.items()}
    desk.app.handle(admin.SetQueueRouting(queue_id=queues["luggage"], target='"luggage" in skills'))
    desk.app.handle(admin.SetQueueRouting(queue_id=queues["supervisors"], target='role == "supervisor"'))
    desk.app.handle(
        routing.SaveRoutingSettings(
            spec={
                "routes": [
                    {
                        "name": "bags",
                        "when": 'queue == "luggage"',
                        "steps": [
                            {"queue": "luggage", "timeout_seconds": 60, "target": "skills.luggage >= 7"},
                            {"queue": "luggage", "timeout_seconds": 120},
                            {"queue": "supervisors"},
                        ],
                    }
                ],
                "offer_timeout_seconds": 30,
            }
        )
    )
    people = {
        "expert": desk.agent("expert"),
        "junior": desk.agent("junior"),
        "boss": desk.agent("boss", role="supervisor"),
    }
    profile(desk, people["expert"], proficiency=(("luggage", 9),))
    profile(desk, people["junior"], proficiency=(("luggage", 3),))
    return people


def test_each_offer_goes_to_the_agent_the_target_admits_and_timeouts_escalate_step_by_step(desk: Desk) -> None:
    people = luggage_desk(desk)
    for name in ("expert", "junior"):
        online(desk, people[name], "busy")
    bag = post(desk, "my suitcase is lost")
    [ticket] = desk.rows(t.routing_tickets)
    assert (ticket.route, ticket.step, ticket.waiting) == ("bags", 0, True)

    sweep(desk, seconds=59)
    assert desk.rows(t.routing_tickets)[0].step == 0
    sweep(desk, seconds=1)  # 60 s: the experts' step times out
    assert desk.rows(t.routing_tickets)[0].step == 1
    online(desk, people["junior"])  # step 2 admits anyone who knows luggage
    [offer] = pending(desk, people["junior"])
    assert offer.conversation_id == bag
    why = offer.explanation
    assert (why["route"], why["step"], why["queue"]) == ("bags", 2, "luggage")
    assert why["agent_match"] == 'matched: "luggage" in skills ({"luggage": 3})'
    assert [e["to_step"] for e in why["escalations"]] == [2]
    assert [row.type for row in desk.events(bag, "routing.escalated", "routing.offer_made")] == [
        "routing.escalated",
        "routing.offer_made",
    ]

    # Junior says no: it waits; 120 s into step 2 it reaches the supervisors.
    desk.app.handle(routing.RejectOffer(offer_id=offer.id, agent_id=people["junior"].id, reason="not mine"))
    assert desk.conversation(bag).assignee_id is None
    sweep(desk, seconds=120)
    online(desk, people["boss"])
    [boss_offer] = pending(desk, people["boss"])
    assert boss_offer.explanation["step"] == 3
    desk.app.handle(routing.AcceptOffer(offer_id=boss_offer.id, agent_id=people["boss"].id))
    assert (desk.conversation(bag).assignee_id, desk.conversation(bag).status) == (people["boss"].id, "open")
    assert [(o.agent_id, o.status) for o in offers(desk, bag)] == [
        (people["junior"].id, "rejected"),
        (people["boss"].id, "accepted"),
    ]


def test_the_expert_gets_it_first_and_an_expired_offer_puts_the_agent_away(desk: Desk) -> None:
    people = luggage_desk(desk)
    online(desk, people["junior"])
    online(desk, people["expert"])
    bag = post(desk, "luggage never arrived")
    [offer] = pending(desk, people["expert"])
    assert offer.conversation_id == bag and pending(desk, people["junior"]) == []

    sweep(desk, seconds=30)  # no answer in 30 s
    assert offers(desk, bag)[0].status == "expired"
    [expert] = desk.rows(t.agents, t.agents.c.id == people["expert"].id)
    assert expert.status == "away"
    sweep(desk, seconds=30)  # step 1 timed out meanwhile (60 s): the junior may take it now
    [second] = pending(desk, people["junior"])
    assert second.conversation_id == bag


def test_sticky_routing_brings_a_returning_customer_back_to_their_agent(desk: Desk) -> None:

    mia, noah = desk.agent("mia"), desk.agent("noah")
    online(desk, noah)
    online(desk, mia)
    first = post(desk, "where is my parcel?", author_id="cust-9")
    [offer] = offers(desk, first)
    served_by = offer.agent_id
    desk.app.handle(routing.AcceptOffer(offer_id=offer.id, agent_id=served_by))
    desk.app.handle(cmd.ResolveConversation(conversation_id=first, agent_id=served_by))
    desk.clock.advance(minutes=5)
    other = post(desk, "a question about billing", author_id="cust-1")  # takes the longest-idle agent
    again = post(desk, "it is still missing", author_id="cust-9", platform_message_id="p-new")
    [sticky] = offers(desk, again)
    assert sticky.agent_id == served_by and sticky.explanation["selection"] == "sticky"
    assert offers(desk, other)[0].agent_id != served_by or sticky.agent_id == served_by


def test_a_blended_agent_never_exceeds_its_weighted_capacity_across_channels(desk: Desk) -> None:

    desk.account("acme-chat", kind="webchat")
    desk.account("acme-phone", kind="voice")
    blend = desk.agent("blend")
    profile(desk, blend, capacity=(("voice", 1), ("webchat", 2), ("x", 5)))
    online(desk, blend)
    chats = [post(desk, f"chat {n}", channel="webchat", account="acme-chat", author_id=f"c{n}") for n in range(2)]
    posts = [post(desk, f"post {n}", author_id=f"x{n}") for n in range(2)]
    call = post(desk, "call", channel="voice", account="acme-phone", author_id="caller")
    held = {row.conversation_id for row in pending(desk, blend)}
    assert held == {*chats, posts[0]}  # 35 + 35 + 20 = 90 of 100: no second post (110), no call (190)
    [agent_row] = desk.rows(t.agents, t.agents.c.id == blend.id)
    assert agent_row.used_units == 90 and agent_row.load == {"webchat": 2, "x": 1}
    for offer in pending(desk, blend):
        desk.app.handle(routing.AcceptOffer(offer_id=offer.id, agent_id=blend.id))
        desk.app.handle(cmd.ResolveConversation(conversation_id=offer.conversation_id, agent_id=blend.id))
    # Everything it held is done: the call (priority order) or the post now fits, never both.
    held = {row.conversation_id for row in pending(desk, blend)}
    assert held in ({call}, {posts[1]})


def test_wrap_up_holds_the_slot_after_a_resolution(desk: Desk) -> None:
    desk.account("acme-phone", kind="voice")
    desk.app.handle(routing.SaveRoutingSettings(spec={"wrap_up_seconds": {"voice": 45}}))
    phone = desk.agent("phone")
    profile(desk, phone, capacity=(("voice", 1),))
    online(desk, phone)
    first = post(desk, "call one", channel="voice", account="acme-phone", author_id="a")
    second = post(desk, "call two", channel="voice", account="acme-phone", author_id="b")
    [offer] = pending(desk, phone)
    assert offer.conversation_id == first
    desk.app.handle(routing.AcceptOffer(offer_id=offer.id, agent_id=phone.id))
    desk.app.handle(cmd.ResolveConversation(conversation_id=first, agent_id=phone.id))
    assert pending(desk, phone) == []  # wrapping up
    sweep(desk, seconds=44)
    assert pending(desk, phone) == []
    sweep(desk, seconds=1)
    assert [row.conversation_id for row in pending(desk, phone)] == [second]


def test_sla_warning_then_breach_unless_answered(desk: Desk) -> None:

    late = post(desk, "anyone there?", author_id="a")  # the default queue: 1 hour
    answered = post(desk, "hello?", author_id="b")
    agent = desk.agent("ann")
    online(desk, agent)
    for offer in pending(desk, agent):
        desk.app.handle(routing.AcceptOffer(offer_id=offer.id, agent_id=agent.id))
    desk.app.handle(cmd.SendReply(conversation_id=answered, agent_id=agent.id, text="Hi! How can I help?"))
    sweep(desk, minutes=48)  # 80% of the hour
    sweep(desk, minutes=12)
    warned = {row.conversation_id for row in desk.events(None, "routing.sla_warning")}
    breached = {row.conversation_id for row in desk.events(None, "routing.sla_breached")}
    assert warned == {late} and breached == {late}
    states = {row.conversation_id: row.sla_state for row in desk.rows(t.routing_tickets)}
    assert states == {late: "breached", answered: "met"}


def test_a_conversation_whose_routing_job_was_lost_is_found_by_the_sweep(desk: Desk) -> None:

    agent = desk.agent("ann")
    online(desk, agent)
    lost = post(desk, "hello?")
    with desk.app.engine.begin() as db:  # as if the job after the commit had never run
        db.execute(sa.delete(t.offers))
        db.execute(sa.delete(t.routing_tickets))
        db.execute(sa.update(t.conversations).values(assignee_id=None))
        db.execute(sa.update(t.agents).values(used_units=0, load={}))
    sweep(desk, seconds=1)
    assert [row.conversation_id for row in pending(desk, agent)] == [lost]
