"""Dataset importers: the twcs and airline formats, on small files written here and on the real datasets."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from careline.ingestion.importers import Rejection, parse, parse_airline, parse_twcs

TWCS_HEADER = ",tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id"


def twcs_file(tmp_path: Path, *rows: str, header: str = TWCS_HEADER) -> Path:
    path = tmp_path / "twcs.csv"
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode())
    return path


def airline_file(tmp_path: Path, *rows: list[str]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["tweet_id", "airline_sentiment", "negativereason", "airline", "text", "tweet_created"])
    writer.writerows(rows)
    path = tmp_path / "airline.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


# -- twcs -------------------------------------------------------------------------------------------------


def test_twcs_reads_a_thread_with_float_reply_ids_as_plain_ids(tmp_path: Path) -> None:
    path = twcs_file(
        tmp_path,
        "0,10,115712,True,Tue Oct 31 22:08:27 +0000 2017,@sprintcare no one is responding,11,",
        "1,11,sprintcare,False,Tue Oct 31 22:10:47 +0000 2017,@115712 please DM us,12,10.0",
        "2,12,115712,True,Tue Oct 31 22:11:45 +0000 2017,@sprintcare and how do you propose we do that,,11.0",
    )

    parsed = parse_twcs(path)

    assert parsed.rejected == []
    assert [(m.platform_message_id, m.reply_to, m.direction) for m in parsed.messages] == [
        ("10", None, "inbound"),
        ("11", "10", "outbound"),
        ("12", "11", "inbound"),
    ]
    first = parsed.messages[0]
    assert (first.channel, first.account, first.author_id, first.visibility) == ("x", "sprintcare", "115712", "public")
    assert first.created_at == datetime(2017, 10, 31, 22, 8, 27, tzinfo=UTC)
    assert first.text == "@sprintcare no one is responding"
    assert first.raw is not None and first.raw["tweet_id"] == "10"


def test_twcs_header_must_match(tmp_path: Path) -> None:
    path = twcs_file(tmp_path, header="tweet_id,author_id,inbound,created_at,text")
    with pytest.raises(ValueError, match="header must be"):
        parse_twcs(path)


def test_twcs_split_record_is_reported_with_its_line_and_the_rest_is_kept(tmp_path: Path) -> None:
    # As in the published file: an unquoted text broken by carriage returns splits one record into two lines.
    path = twcs_file(
        tmp_path,
        "0,20,116510,True,Tue Oct 31 18:13:06 +0000 2017,@AskPayPal \r\rI just love the start of email,21,",
        "1,21,AskPayPal,False,Tue Oct 31 22:41:28 +0000 2017,@116510 sorry for the trouble,,20.0",
    )

    parsed = parse_twcs(path)

    assert parsed.rejected == [
        Rejection(4, "3 fields where 8 are expected (a line break inside an unquoted text splits a record)")
    ]
    # The first half is kept as far as its fields are complete (docs/ingestion.md#importers).
    assert [(m.platform_message_id, m.text) for m in parsed.messages] == [
        ("20", "@AskPayPal "),
        ("21", "@116510 sorry for the trouble"),
    ]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("0,abc,115712,True,Tue Oct 31 22:08:27 +0000 2017,hello,,", "tweet_id 'abc' is not a number"),
        ("0,30,115712,yes,Tue Oct 31 22:08:27 +0000 2017,hello,,", "inbound must be True or False, not 'yes'"),
        ("0,30, ,True,Tue Oct 31 22:08:27 +0000 2017,hello,,", "author_id is empty"),
        ("0,30,115712,True,2017-10-31 22:08:27,hello,,", "created_at '2017-10-31 22:08:27' is not like"),
        ("0,30,115712,True,Tue Oct 31 22:08:27 +0000 2017, ,,", "text is empty"),
        ("0,30,115712,True,Tue Oct 31 22:08:27 +0000 2017,hello,,x1.0", "in_response_to_tweet_id 'x1.0' is not"),
        ("0,30,115712,True,Tue Oct 31 22:08:27 +0000 2017,hello,,,extra", "9 fields where 8 are expected"),
    ],
)
def test_twcs_bad_rows_are_rejected_with_a_reason(tmp_path: Path, row: str, reason: str) -> None:
    good = "1,31,115713,True,Tue Oct 31 22:09:00 +0000 2017,@AppleSupport my phone is stuck,,"
    parsed = parse_twcs(twcs_file(tmp_path, row, good))
    assert [r.line for r in parsed.rejected] == [2]
    assert parsed.rejected[0].reason.startswith(reason)
    assert [m.platform_message_id for m in parsed.messages] == ["31"]


def test_twcs_parents_come_before_replies_even_when_a_reply_is_stamped_earlier(tmp_path: Path) -> None:
    path = twcs_file(
        tmp_path,
        "0,1,sprintcare,False,Tue Oct 31 22:10:47 +0000 2017,@115712 I understand,2,3.0",
        "1,2,115712,True,Tue Oct 31 22:11:45 +0000 2017,@sprintcare and how,,1.0",
        # The customer's tweet that the brand answered is stamped later than the answer's own parent chain.
        "2,3,115712,True,Tue Oct 31 22:08:27 +0000 2017,@sprintcare no one is responding,1,4.0",
        "3,4,sprintcare,False,Tue Oct 31 22:20:00 +0000 2017,@115712 Please send us a DM,3,5.0",
        "4,5,115712,True,Tue Oct 31 21:45:00 +0000 2017,@sprintcare is the network down?,4,",
        "5,6,115999,True,Tue Oct 31 22:00:00 +0000 2017,@sprintcare unrelated question,,",
    )

    order = [m.platform_message_id for m in parse_twcs(path).messages]

    # By time, except that 4 (22:20) is pulled in front of its reply 3 (22:08), and so of 3's replies.
    assert order == ["5", "6", "4", "3", "1", "2"]


def test_twcs_each_thread_belongs_to_the_brand_that_answered_it_else_the_one_mentioned(tmp_path: Path) -> None:
    path = twcs_file(
        tmp_path,
        # Thread A: the customer mentions two brands; AppleSupport is the one that answers.
        "0,1,200,True,Tue Oct 31 10:00:00 +0000 2017,@AmazonHelp @AppleSupport my watch arrived broken,2,",
        "1,2,AppleSupport,False,Tue Oct 31 10:05:00 +0000 2017,@200 let's look into it,3,1.0",
        "2,3,200,True,Tue Oct 31 10:06:00 +0000 2017,@AppleSupport thanks,,2.0",
        # Thread B: nobody answers; a known brand wins over the other handle mentioned first.
        "3,4,201,True,Tue Oct 31 11:00:00 +0000 2017,@friend @AppleSupport screen flickers,,",
        # Thread C: nobody answers and no known brand: the first non-numeric handle.
        "4,5,202,True,Tue Oct 31 12:00:00 +0000 2017,@12345 @VirginTrains late again,,",
        # Thread D: no mention at all.
        "5,6,203,True,Tue Oct 31 13:00:00 +0000 2017,so slow today,,",
    )

    account = {m.platform_message_id: m.account for m in parse_twcs(path).messages}

    assert account == {
        "1": "AppleSupport", "2": "AppleSupport", "3": "AppleSupport",
        "4": "AppleSupport", "5": "VirginTrains", "6": "unknown-brand",
    }


def test_twcs_a_reply_to_a_tweet_outside_the_file_roots_its_own_thread(tmp_path: Path) -> None:
    path = twcs_file(
        tmp_path,
        "0,7,Delta,False,Tue Oct 31 10:05:00 +0000 2017,@300 we are sorry,8,999999.0",
        "1,8,300,True,Tue Oct 31 10:07:00 +0000 2017,@Delta ok,,7.0",
    )
    messages = parse_twcs(path).messages
    assert [(m.platform_message_id, m.reply_to, m.account) for m in messages] == [
        ("7", "999999", "Delta"),
        ("8", "7", "Delta"),
    ]


# -- airline ----------------------------------------------------------------------------------------------


def test_airline_rows_become_anonymous_public_posts_to_the_airline(tmp_path: Path) -> None:
    path = airline_file(
        tmp_path,
        ["570306133677760513", "negative", "Late Flight", "Virgin America",
         "@VirginAmerica delayed 3 hrs &amp; no updates &gt;:(", "2/24/2015 11:35"],
        ["570301130888122368", "positive", "", "United", "@united crew was great", "2/24/2015 11:15"],
    )

    parsed = parse_airline(path)

    assert parsed.rejected == []
    first, second = parsed.messages
    assert (first.platform_message_id, first.account) == ("570301130888122368", "United")  # ordered by time
    assert second.text == "@VirginAmerica delayed 3 hrs & no updates >:("
    assert (second.channel, second.direction, second.visibility) == ("x", "inbound", "public")
    assert (second.author_id, second.author_name) == ("anonymous-570306133677760513", "anonymous")
    assert second.created_at == datetime(2015, 2, 24, 11, 35, tzinfo=UTC)
    assert second.raw is not None and second.raw["negativereason"] == "Late Flight"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (["5703", "neutral", "", "Delta", "@Delta hi", "2015-02-24 11:35"], "tweet_created '2015-02-24 11:35'"),
        (["5703", "neutral", "", "Delta", "@Delta hi", "13/24/2015 11:35"], "tweet_created '13/24/2015 11:35'"),
        (["57x3", "neutral", "", "Delta", "@Delta hi", "2/24/2015 11:35"], "tweet_id '57x3' is not a number"),
        (["5703", "neutral", "", " ", "@Delta hi", "2/24/2015 11:35"], "airline and text must not be empty"),
    ],
)
def test_airline_bad_rows_are_rejected(tmp_path: Path, row: list[str], reason: str) -> None:
    good = ["5704", "neutral", "", "Delta", "@Delta when does boarding start?", "2/24/2015 11:40"]
    parsed = parse_airline(airline_file(tmp_path, row, good))
    assert [r.line for r in parsed.rejected] == [2]
    assert parsed.rejected[0].reason.startswith(reason)
    assert [m.platform_message_id for m in parsed.messages] == ["5704"]


def test_parse_refuses_an_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown format 'tsv'"):
        parse(tmp_path / "x.csv", "tsv")


# -- the real datasets ------------------------------------------------------------------------------------


def test_the_real_twcs_sample(data_dir: Path) -> None:
    parsed = parse(data_dir / "twcs_sample.csv", "twcs")

    assert len(parsed.messages) == 5000
    assert len(parsed.rejected) == 1 and parsed.rejected[0].line == 2591
    assert "line break" in parsed.rejected[0].reason
    assert len({m.platform_message_id for m in parsed.messages}) == 5000
    position = {m.platform_message_id: i for i, m in enumerate(parsed.messages)}
    for message in parsed.messages:
        if message.reply_to in position:
            assert position[message.reply_to] < position[message.platform_message_id]
    inbound = sum(1 for m in parsed.messages if m.direction == "inbound")
    assert (inbound, 5000 - inbound) == (2778, 2222)
    accounts = {m.account for m in parsed.messages}
    assert {"AppleSupport", "AmazonHelp", "sprintcare"} <= accounts


def test_the_real_airline_file(data_dir: Path) -> None:
    parsed = parse(data_dir / "airline_tweets.csv", "airline")

    assert len(parsed.messages) == 11739 and parsed.rejected == []
    assert len({m.platform_message_id for m in parsed.messages}) == 11617  # 122 tweets are listed twice
    assert {m.account for m in parsed.messages} == {
        "United", "US Airways", "American", "Southwest", "Delta", "Virgin America",
    }
    assert not any("&amp;" in m.text for m in parsed.messages)
    assert sum("&" in m.text for m in parsed.messages) > 0
    times = [m.created_at for m in parsed.messages if m.created_at is not None]
    assert len(times) == 11739 and times == sorted(times)
