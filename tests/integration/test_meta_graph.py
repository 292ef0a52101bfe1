"""Facebook and Instagram outbound against a local fake Graph API (tests/integration/fake_graph.py), over real HTTP:
each kind of reply leaves in Meta's format (path, body, token), Graph's answers map to retryable or final failures
(error bodies, 429 with rate-limit headers, 5xx, a timeout, no server), and comments are hidden and shown again.
The adapter is called directly here; test_meta_flow.py drives it through the desk (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from careline.channels.adapters.meta_graph import MetaGraphChannel
from careline.channels.model import AccountSecrets, ChannelAccount, ChannelKind
from careline.channels.ports import DeliveryError, Outbound
from careline.conversations.model import Direction, Message, Visibility
from integration.fake_graph import Answer, FakeGraph, graph_error

NOW = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
TOKEN = "EAAG-page-access-token-0123456789"
PAGE, IG = "104500000000001", "17841400000000001"
COMMENT, PARENT, PSID = "880000000000001_990000000000002", "880000000000001_990000000000001", "6100000000000001"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        yield fake


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=0.5) as client:  # a hang is a timeout in half a second
        yield client


def account(graph: FakeGraph, kind: str = "facebook", **config: Any) -> ChannelAccount:
    ids = {"page_id": PAGE} if kind == "facebook" else {"ig_user_id": IG}
    return ChannelAccount(
        id="chn_1",
        kind=ChannelKind(kind),
        name="acme",
        created_at=NOW,
        config={"graph_url": graph.url, **ids, **config},
        secrets=AccountSecrets({"page_access_token": TOKEN}),
    )


def message(visibility: str, direction: str = "outbound", **fields: Any) -> Message:
    values: dict[str, Any] = {
        "id": "msg_1",
        "conversation_id": "cnv_1",
        "channel_account_id": "chn_1",
        "direction": Direction(direction),
        "visibility": Visibility(visibility),
        "text": "Sorry about that, we are on it",
        "created_at": NOW,
        "received_at": NOW,
    }
    return Message(**{**values, **fields})


def comment(platform_id: str = PARENT, parent: str | None = None) -> Message:
    return message("public", "inbound", platform_message_id=platform_id, reply_to_platform_id=parent)


def reply(visibility: str, **context: Any) -> Outbound:
    return Outbound(message=message(visibility), idempotency_key="deliver:msg_1", **context)


def deliver(graph: FakeGraph, http: httpx.Client, outbound: Outbound, kind: str = "facebook", **config: Any) -> Any:
    return MetaGraphChannel(http, kind, clock=lambda: NOW).deliver(account(graph, kind, **config), outbound)


def test_a_public_reply_answers_the_thread_top_level_comment_with_the_page_token(
    graph: FakeGraph, http: httpx.Client
) -> None:
    in_thread = reply("public", reply_to=COMMENT, first=comment(COMMENT, parent=PARENT), thread=(COMMENT,))
    delivery = deliver(graph, http, in_thread)

    [call] = graph.calls
    assert call.path == f"/{PARENT}/comments"  # Facebook nests one level: the reply goes under the parent
    assert call.body == {"message": "Sorry about that, we are on it"}
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert delivery.platform_message_id == f"{PARENT}_reply1"


def test_an_instagram_public_reply_uses_the_replies_edge(graph: FakeGraph, http: httpx.Client) -> None:
    delivery = deliver(
        graph, http, reply("public", reply_to="17865799348089039", first=comment("17865799348089039")), "instagram"
    )
    assert [(c.path, c.body) for c in graph.calls] == [
        ("/17865799348089039/replies", {"message": "Sorry about that, we are on it"})
    ]
    assert delivery.platform_message_id == "17865799348089039_reply1"


def test_a_conversation_taken_private_starts_with_a_private_reply_to_the_comment(
    graph: FakeGraph, http: httpx.Client
) -> None:
    delivery = deliver(graph, http, reply("private", origin=PARENT, recipient="7001000000000001"))
    deliver(graph, http, reply("private", origin="17865799348089039"), "instagram")

    facebook, instagram = graph.calls
    assert facebook.path == f"/{PAGE}/messages"
    assert facebook.body == {"recipient": {"comment_id": PARENT}, "message": {"text": "Sorry about that, we are on it"}}
    assert delivery.platform_message_id == "m_OurReply0000000001"
    assert instagram.path == f"/{IG}/messages"  # Instagram Login: the account's own id sends
    assert instagram.body["recipient"] == {"comment_id": "17865799348089039"}


def test_a_private_message_in_a_comment_thread_is_a_private_reply_to_the_latest_comment(
    graph: FakeGraph, http: httpx.Client
) -> None:
    deliver(graph, http, reply("private", reply_to=COMMENT, recipient="7001000000000002", first=comment()))
    assert graph.calls[0].body["recipient"] == {"comment_id": COMMENT}


def test_a_direct_message_is_a_response_within_24_hours_and_human_agent_tagged_after(
    graph: FakeGraph, http: httpx.Client
) -> None:
    dm = message("private", "inbound", platform_message_id="m_AbCdEf0123456789")

    def answer(hours: float) -> Outbound:
        wrote = NOW - timedelta(hours=hours)
        return reply("private", reply_to="m_AbCdEf0123456789", recipient=PSID, first=dm, last_inbound_at=wrote)

    deliver(graph, http, answer(2))
    deliver(graph, http, answer(30), human_agent=True)
    deliver(graph, http, answer(30))  # no permission: tried as a response, and Meta's clock decides

    within, tagged, untagged = (call.body for call in graph.calls)
    assert within == {
        "recipient": {"id": PSID},
        "message": {"text": "Sorry about that, we are on it"},
        "messaging_type": "RESPONSE",
    }
    assert (tagged["messaging_type"], tagged["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert untagged["messaging_type"] == "RESPONSE" and "tag" not in untagged
    assert {call.path for call in graph.calls} == {f"/{PAGE}/messages"}


def test_a_message_outside_meta_window_is_refused_for_good_with_the_reason(
    graph: FakeGraph, http: httpx.Client
) -> None:
    graph.script = [
        Answer(400, graph_error("(#10) This message is sent outside of allowed window.", code=10, subcode=2018278))
    ]
    with pytest.raises(DeliveryError) as refused:
        deliver(graph, http, reply("private", reply_to="m_1", recipient=PSID, first=message("private", "inbound")))
    assert not refused.value.retryable
    assert "outside its messaging window" in str(refused.value) and "subcode 2018278" in str(refused.value)


USAGE = json.dumps({PAGE: [{"type": "messenger", "call_count": 100, "estimated_time_to_regain_access": 12}]})


@pytest.mark.parametrize(
    ("answer", "retryable", "reason"),
    [
        (Answer(400, graph_error("(#100) Invalid parameter", code=100)), False, "Graph API 400 (code 100): (#100)"),
        (Answer(403, graph_error("(#200) Requires pages_messaging permission", code=200)), False, "pages_messaging"),
        (Answer(429, {}, {"X-Business-Use-Case-Usage": USAGE}), True, "access again in 0:12:00"),
        (Answer(400, graph_error("(#613) Calls to this api have exceeded the rate limit.", code=613)), True, "#613"),
        (Answer(500, graph_error("An unexpected error has occurred.", code=2, is_transient=True)), True, "code 2"),
        (Answer(503, {}, {"Retry-After": "30"}), True, "retry after 30 s"),
        (Answer(hang=2.0), True, "did not answer in time"),
    ],
    ids=["invalid", "permission", "429", "throttled", "5xx", "503", "timeout"],
)
def test_graph_answers_map_to_retryable_or_final_failures(
    graph: FakeGraph, http: httpx.Client, answer: Answer, retryable: bool, reason: str
) -> None:
    graph.script = [answer]
    with pytest.raises(DeliveryError) as failed:
        deliver(graph, http, reply("public", reply_to=PARENT, first=comment()))
    assert (failed.value.retryable, reason in str(failed.value)) == (retryable, True), str(failed.value)


def test_no_server_is_retryable_and_no_token_is_final(graph: FakeGraph, http: httpx.Client) -> None:
    outbound = reply("public", reply_to=PARENT, first=comment())
    with pytest.raises(DeliveryError, match="unreachable") as unreachable:
        deliver(graph, http, outbound, graph_url="http://127.0.0.1:9/v21.0")
    assert unreachable.value.retryable
    tokenless = account(graph)
    tokenless.secrets = AccountSecrets({})
    with pytest.raises(DeliveryError, match="no page_access_token") as missing:
        MetaGraphChannel(http, "facebook").deliver(tokenless, outbound)
    assert not missing.value.retryable and graph.calls == []


def test_replies_with_nothing_to_answer_are_refused_before_calling_meta(graph: FakeGraph, http: httpx.Client) -> None:
    with pytest.raises(DeliveryError, match="needs a public comment"):
        deliver(graph, http, reply("public", reply_to="m_1", first=message("private", "inbound")))
    with pytest.raises(DeliveryError, match="nothing|no customer message"):
        deliver(graph, http, reply("private"))
    assert graph.calls == []


def test_comments_are_hidden_and_shown_again_in_each_network_format(graph: FakeGraph, http: httpx.Client) -> None:
    MetaGraphChannel(http, "facebook").set_comment_hidden(account(graph), PARENT, True)
    MetaGraphChannel(http, "instagram").set_comment_hidden(account(graph, "instagram"), "17865799348089039", False)
    assert [(c.path, c.body) for c in graph.calls] == [
        (f"/{PARENT}", {"is_hidden": True}),
        ("/17865799348089039", {"hide": False}),
    ]
    graph.script = [Answer(400, graph_error("(#100) Cannot hide a comment by the page", code=100))]
    with pytest.raises(DeliveryError, match="Cannot hide") as refused:
        MetaGraphChannel(http, "facebook").set_comment_hidden(account(graph), PARENT, True)
    assert not refused.value.retryable
