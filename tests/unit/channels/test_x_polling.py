"""The poller's pure state (channels/polling.py): a stream's cursor never moves past what is stored, and an
endpoint's budget never lets a request go when X has none left, over the account's cap, or during a backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from careline.channels.polling import Budget, Cursor, backoff

T0 = datetime(2024, 6, 5, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def headers(limit: int, remaining: int, reset: datetime) -> dict[str, str]:
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(int(reset.timestamp())),
    }


def test_a_sweep_moves_since_id_only_after_its_last_page() -> None:
    cursor = Cursor(since_id="100")
    cursor.page_stored("190", "token-2", T0, T0, MINUTE)  # first page: newest 190, more below
    assert (cursor.since_id, cursor.target_id, cursor.next_token) == ("100", "190", "token-2")
    assert cursor.sweep_started_at == T0
    cursor.page_stored("150", "token-3", T0 + MINUTE, T0 + MINUTE, MINUTE)  # a later page's newest is not the sweep's
    assert (cursor.since_id, cursor.target_id) == ("100", "190") and cursor.due(T0)
    cursor.page_stored("120", None, T0 + 2 * MINUTE, T0 + 2 * MINUTE, MINUTE)
    assert (cursor.since_id, cursor.target_id, cursor.next_token) == ("190", None, None)
    assert (cursor.since_at, cursor.sweep_started_at) == (T0, None)  # when the finished sweep began
    assert not cursor.due(T0 + 2 * MINUTE) and cursor.due(T0 + 3 * MINUTE)


def test_ids_compare_as_numbers_and_an_empty_sweep_keeps_since_id() -> None:
    cursor = Cursor(since_id="99")
    cursor.page_stored(None, None, T0, T0, MINUTE)
    assert (cursor.since_id, cursor.since_at) == ("99", T0)  # nothing newer as of T0
    cursor.page_stored("100", None, T0 + MINUTE, T0 + MINUTE, MINUTE)
    assert cursor.since_id == "100"  # "100" < "99" as strings


def test_an_expired_token_restarts_the_sweep_from_since_id() -> None:
    cursor = Cursor(since_id="100", target_id="190", next_token="stale")
    cursor.restart_sweep()
    assert (cursor.since_id, cursor.target_id, cursor.next_token) == ("100", None, None)


def test_no_request_when_x_has_none_left_before_its_reset() -> None:
    budget = Budget()
    assert budget.wait_until(T0, cap=None) is None  # nothing known yet: one request may go
    budget.spend(T0)
    budget.observe(headers(3, 0, T0 + 15 * MINUTE))
    assert budget.wait_until(T0 + MINUTE, cap=None) == T0 + 15 * MINUTE
    assert budget.wait_until(T0 + 15 * MINUTE, cap=None) is None


def test_spending_counts_down_until_the_answer_says() -> None:
    budget = Budget()
    budget.observe(headers(3, 1, T0 + 15 * MINUTE))
    budget.spend(T0)  # a crash before the answer leaves it at 0, not 1
    assert budget.remaining == 0 and budget.wait_until(T0, cap=None) == T0 + 15 * MINUTE


def test_the_account_cap_counts_per_15_minutes() -> None:
    budget = Budget()
    budget.spend(T0)
    budget.spend(T0 + MINUTE)
    assert budget.wait_until(T0 + 2 * MINUTE, cap=2) == T0 + 15 * MINUTE
    assert budget.wait_until(T0 + 2 * MINUTE, cap=3) is None
    budget.spend(T0 + 15 * MINUTE)  # a new window
    assert budget.sent_in_window == 1 and budget.wait_until(T0 + 16 * MINUTE, cap=2) is None


def test_a_429_waits_for_the_reset_or_backs_off() -> None:
    budget = Budget()
    budget.observe(headers(3, 2, T0 + 10 * MINUTE))
    budget.throttled(T0, "429")
    assert budget.wait_until(T0, cap=None) == T0 + 10 * MINUTE
    stale = Budget(reset_at=T0 - MINUTE)  # no reset ahead: exponential backoff instead
    stale.throttled(T0, "429")
    assert stale.blocked_until == T0 + backoff(1)


def test_failures_back_off_exponentially_up_to_15_minutes_and_success_clears_them() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4, 5, 9)] == [30, 60, 120, 240, 480, 900]
    budget = Budget()
    budget.failed(T0, "X answered 503")
    budget.failed(T0, "timeout")
    assert budget.blocked_until == T0 + timedelta(seconds=60) and budget.last_error == "timeout"
    budget.succeeded()
    assert (budget.failures, budget.blocked_until, budget.last_error) == (0, None, None)


def test_since_is_lowered_to_re_read_tweets_x_may_have_indexed_late() -> None:
    from careline.channels.adapters.x import snowflake_at
    from careline.channels.adapters.x_poller import _since

    newest = snowflake_at(T0 - timedelta(seconds=5)) + 7  # the newest tweet seen was 5 s old when the sweep began
    cursor = Cursor(since_id=str(newest), since_at=T0)
    assert _since(cursor, timedelta(seconds=30)) == str(snowflake_at(T0 - timedelta(seconds=30)))
    assert _since(cursor, timedelta(0)) == str(newest)
    idle = Cursor(since_id=str(snowflake_at(T0 - timedelta(hours=2))), since_at=T0)  # nothing new in two hours
    assert _since(idle, timedelta(seconds=30)) == idle.since_id  # re-reads nothing
    assert _since(Cursor(since_id="12345"), timedelta(seconds=30)) == "12345"  # no sweep finished yet
