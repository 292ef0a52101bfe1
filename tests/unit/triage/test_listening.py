"""Listening queries: words, prefixes, phrases, hashtags, mentions, operators, fields, errors, real tweets."""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import pytest

from careline.kernel.errors import InvalidInput
from careline.triage.listening import MAX_DEPTH, MAX_QUERY_LENGTH, MAX_TERMS, Post, QueryError, parse, prepare


def matches(query: str, text: str, **fields: str) -> bool:
    return parse(query).matches(Post(text, **fields))


# words


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("delay", "Another DELAY today", True),
        ("Delay", "another delay today", True),
        ("delay", "my flight was delayed", False),
        ("delay", "undelay", False),
        ("delay", "delay.", True),
        ("delay", "(delay)", True),
        ("delay*", "delay", True),
        ("delay*", "Delayed again", True),
        ("delay*", "two delays", True),
        ("delay*", "undelayed", False),
        ("bag*", "my baggage", True),
        ("bag*", "@baggageservice help", False),  # a mention is not a word, even for a prefix
        ("bag*", "#BagsFlyFree", True),  # a bare word matches hashtags, prefixes too
        ("flight_2", "flight_2 is late", True),  # "_" is part of a word, as in handles and hashtags
        ("2", "flight_2 is late", False),
    ],
)
def test_bare_words_are_whole_words_and_a_trailing_star_is_a_prefix(query: str, text: str, expected: bool) -> None:
    assert matches(query, text) is expected


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("café", "best cafe in town", True),
        ("cafe", "best Café in town", True),
        ("CAFÉ", "best café in town", True),
        ("bogota", "flight 1008 Bogotá-Houston", True),
        ("Bogotá*", "BOGOTAS", True),
        ("strasse", "Straße", True),  # case folding, not just lower-casing
        ("cafe", "cafeteria", False),
    ],
)
def test_accents_and_case_are_folded_on_both_sides(query: str, text: str, expected: bool) -> None:
    assert matches(query, text) is expected


def test_html_entities_are_decoded_before_matching() -> None:
    assert matches("amp", "Q&amp;A session") is False
    assert matches('"q a"', "Q&amp;A session") is True
    assert matches('"bos sfo"', "this BOS --&gt; SFO flight today") is True


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("e-mail", "send an e-mail", True),
        ("e-mail", "send an e mail", True),  # a word with punctuation inside is the phrase of its parts
        ("e-mail", "send an email", False),
        ("don't", "I don’t know", True),  # straight and curly apostrophes split words alike
        ("delay,", "a delay", True),  # punctuation around a word is ignored
    ],
)
def test_punctuation_inside_a_query_word_splits_it_like_the_post(query: str, text: str, expected: bool) -> None:
    assert matches(query, text) is expected


# phrases


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thank you!", True),
        ("thank-you note", True),
        ("thank... you", True),
        ("THANK\nYOU", True),
        ("thank #you", True),  # a plain word in a phrase matches its hashtag form, as a bare word does
        ("you thank", False),
        ("thank all of you", False),
        ("thank @you", False),  # a mention is not the word
        ("thankyou", False),
        ("thank yourself", False),
    ],
)
def test_a_phrase_is_consecutive_words_whatever_the_punctuation_between(text: str, expected: bool) -> None:
    assert matches('"thank you"', text) is expected


def test_hashtags_and_mentions_inside_a_phrase_match_only_themselves() -> None:
    assert matches('"love @united"', "I love @United")
    assert not matches('"love @united"', "I love United")
    assert matches('"#fail again"', "#FAIL again")
    assert not matches('"#fail again"', "fail again")


def test_a_one_word_phrase_is_the_word() -> None:
    assert matches('"delay"', "a delay") and not matches('"delay"', "delayed")


# hashtags, mentions and words


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("#united", "flying #United today", True),
        ("#united", "flying United today", False),
        ("#united", "flying @united today", False),
        ("@united", "hey @United", True),
        ("@united", "hey United", False),
        ("@united", "hey #united", False),
        ("@united", "hey @unitedairlines", False),
        ("@united", "mail me@united.com", False),  # an address, not a mention
        ("united", "United again", True),
        ("united", "#United again", True),  # a bare word also matches the hashtag
        ("united", "@United again", False),  # but not the mention: addressing a brand is not talking about it
        ("#united*", "#UnitedAirlines rocks", True),
        ("#united*", "UnitedAirlines rocks", False),
        ("@jet*", "@JetBlue where is my bag", True),
        ("jet*", "@JetBlue where is my bag", False),
        ("#café", "#cafe", True),
    ],
)
def test_hashtags_mentions_and_words_are_told_apart(query: str, text: str, expected: bool) -> None:
    assert matches(query, text) is expected


def test_prepare_reads_words_hashtags_and_mentions_once() -> None:
    prepared = prepare(Post("@United lost my BAG &amp; #Luggage, e-mail me@example.com"))
    assert prepared.mentions == {"united"}
    assert prepared.hashtags == {"luggage"}
    assert prepared.words == {"lost", "my", "bag", "luggage", "e", "mail", "me", "example", "com"}


def test_a_prepared_post_and_a_post_give_the_same_answers() -> None:
    post = Post("@united my bags are in Denver", language="en", channel="x", account="united", author="ann")
    prepared = prepare(post)
    for query in ["@united bag*", '"in denver"', "lang:en denver", "paris", "denver -from:ann"]:
        rule = parse(query)
        assert rule.matches(post) is rule.matches(prepared)
        assert rule.matched_terms(post) == rule.matched_terms(prepared)


# operators


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("bag AND lost", "lost bag", True),
        ("bag AND lost", "bag found", False),
        ("bag lost", "lost bag", True),  # adjacent terms: implicit AND
        ("bag lost", "bag found", False),
        ("bag OR luggage", "my luggage", True),
        ("bag OR luggage", "my suitcase", False),
        ("bag NOT lost", "bag found", True),
        ("bag NOT lost", "lost bag", False),
        ("bag -lost", "lost bag", False),
        ("bag -lost", "bag found", True),
        ('bag -"thank you"', "bag, thank you", False),
        ('bag -"thank you"', "bag, thank u", True),
        ("bag -(lost OR late)", "bag late", False),
        ("bag -(lost OR late)", "bag ok", True),
        ("bag NOT NOT lost", "lost bag", True),  # a double negation cancels out
        ("bag --lost", "bag found", False),
        ("bag and lost", "bag and lost", True),  # lower-case operators are ordinary words
        ("bag and lost", "bag lost", False),
        ("bag or luggage", "bag luggage", False),
        ("not happy", "not happy", True),
        ("not happy", "happy", False),
        ("Not happy", "happy", False),
    ],
)
def test_and_or_not_minus_and_implicit_and(query: str, text: str, expected: bool) -> None:
    assert matches(query, text) is expected


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        # NOT > AND > OR: "a OR b c" is a OR (b AND c)
        ("a OR b c", "a", True),
        ("a OR b c", "b", False),
        ("a OR b c", "b c", True),
        ("a OR b AND c", "b", False),
        ("(a OR b) c", "b", False),
        ("(a OR b) c", "b c", True),
        ("a b OR c", "c", True),
        ("a b OR c", "a", False),
        # NOT binds to the next term only: "NOT a b" is (NOT a) AND b
        ("b NOT a OR c", "c", True),
        ("b NOT a OR c", "b a", False),
        ("NOT a b", "b", True),
        ("NOT a b", "a b", False),
        ("NOT (a b) c", "a c", True),
        ("NOT (a b) c", "a b c", False),
        ("((a OR b) (c OR d)) OR e", "b d", True),
        ("((a OR b) (c OR d)) OR e", "b", False),
        ("((a OR b) (c OR d)) OR e", "e", True),
    ],
)
def test_precedence_is_not_then_and_then_or(query: str, text: str, expected: bool) -> None:
    assert matches(query, text) is expected


def test_operators_need_no_spaces_around_parentheses() -> None:
    assert matches('(a OR b)AND"c d"', "b c d")


# fields


@pytest.mark.parametrize(
    ("query", "fields", "expected"),
    [
        ("bag lang:es", {"language": "es"}, True),
        ("bag lang:es", {"language": "ES-mx"}, True),  # a regional variant is the language
        ("bag lang:es", {"language": "es_AR"}, True),
        ("bag lang:es", {"language": "en"}, False),
        ("bag lang:es", {"language": "est"}, False),
        ("bag lang:es", {}, False),  # unknown language: a field filter does not match
        ("bag lang:es-mx", {"language": "es"}, False),
        ("bag channel:x", {"channel": "X"}, True),
        ("bag channel:x", {"channel": "meta"}, False),
        ("bag account:united", {"account": "@United"}, True),
        ("bag account:@united", {"account": "united"}, True),
        ("bag account:united", {"account": "delta"}, False),
        ("bag from:ann_b", {"author": "@Ann_B"}, True),
        ("bag from:ann_b", {"author": "ann"}, False),
        ("bag -from:bot", {"author": "bot"}, False),
        ("bag -from:bot", {}, True),
        ("bag LANG:es", {"language": "es"}, True),  # field names are case-insensitive
        ("bag (lang:es OR lang:pt)", {"language": "pt"}, True),
    ],
)
def test_fields_filter_on_language_channel_account_and_author(
    query: str, fields: dict[str, str], expected: bool
) -> None:
    assert matches(query, "lost bag", **fields) is expected


# terms and explanations


def test_terms_are_the_positive_content_terms_as_written_in_order() -> None:
    query = parse('@United (Bag* OR "lost luggage" OR #Bags) -"thank you" NOT refund lang:en bag* NOT NOT delay')
    assert query.terms() == ("@United", "Bag*", '"lost luggage"', "#Bags", "bag*", "delay")
    assert parse("a NOT (b OR NOT c)").terms() == ("a", "c")


def test_matched_terms_say_which_positive_terms_occur() -> None:
    query = parse('@united (bag* OR "lost luggage" OR #bags) -refund')
    post = Post("@united my bags and my lost luggage #bags")
    assert query.matched_terms(post) == ["@united", "bag*", '"lost luggage"', "#bags"]
    assert query.matched_terms(Post("@united hello")) == ["@united"]
    assert query.matched_terms(Post("refund")) == []


def test_a_query_keeps_its_source() -> None:
    query = parse("  bag OR luggage ")
    assert query.source == "  bag OR luggage "
    assert repr(query) == "Query('  bag OR luggage ')"


# errors


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "empty query"),
        ("   \n", "empty query"),
        ("bag OR (lost) )", 'column 15: ")" closes nothing'),
        (") bag", 'column 1: ")" closes nothing'),
        ("bag (lost OR late", 'column 5: "(" is never closed'),
        ("bag (", 'column 5: "(" is never closed'),
        ("bag ()", 'column 5: empty parentheses "()"'),
        ('a "thank you', "unclosed quote starting at column 3"),
        ('a "', "unclosed quote starting at column 3"),
        ("bag AND", "column 5: AND needs a term on both sides"),
        ("AND bag", "column 1: AND needs a term on both sides"),
        ("bag OR OR lost", "column 5: OR needs a term on both sides"),
        ("(bag OR) lost", "column 6: OR needs a term on both sides"),
        ("bag AND OR lost", "column 5: AND needs a term on both sides"),
        ("bag NOT", "column 5: NOT needs a term after it"),
        ("bag NOT OR lost", "column 5: NOT needs a term after it"),
        ("bag -AND lost", 'column 5: "-" needs a term after it'),
        ("bag - lost", 'column 5: "-" must be glued to the term it excludes, as in -refund'),
        ("bag -", 'column 5: "-" must be glued to the term it excludes, as in -refund'),
        ("foo:bar bag", 'column 1: unknown field "foo:" (fields: lang, channel, account, from)'),
        ("https://united.com", 'column 1: unknown field "https:" (fields: lang, channel, account, from)'),
        ("bag lang:", 'column 5: the field "lang:" needs a value, as in lang:something'),
        ("bag from:@", 'column 5: the field "from:" needs a value, as in from:something'),
        ("de*lay", 'column 1: "*" is allowed only at the end of a word, as in delay*'),
        ("bag **", 'column 5: "*" is allowed only at the end of a word, as in delay*'),
        ("bag *", 'column 5: "*" has no letters or digits to match'),
        ("bag !!!", 'column 5: "!!!" has no letters or digits to match'),
        ("bag #", 'column 5: "#" has no letters or digits to match'),
        ('bag "?!"', 'column 5: the phrase "?!" has no letters or digits to match'),
        ('bag ""', 'column 5: the phrase "" has no letters or digits to match'),
        ("#foo-bar", 'column 1: "#foo-bar" is not a single word, which a hashtag or mention must be'),
        ("@a.b", 'column 1: "@a.b" is not a single word, which a hashtag or mention must be'),
        ("e-mail*", 'column 1: "e-mail*" is not a single word, which a "*" prefix must be'),
    ],
)
def test_malformed_queries_say_what_and_where(query: str, message: str) -> None:
    with pytest.raises(QueryError) as raised:
        parse(query)
    assert str(raised.value) == message


NO_POSITIVE_TERM = (
    "a query needs at least one positive word, phrase, hashtag or mention: NOT terms and fields only narrow a "
    "search, and alone they would match almost every post"
)


@pytest.mark.parametrize(
    "query", ["-refund", "NOT refund", 'NOT "thank you" -#fail', "lang:es", "lang:es -from:bot", "NOT (a OR b)"]
)
def test_a_query_of_only_negations_and_fields_is_refused(query: str) -> None:
    with pytest.raises(QueryError) as raised:
        parse(query)
    assert str(raised.value) == NO_POSITIVE_TERM


@pytest.mark.parametrize(
    ("query", "column"),
    [
        ("bag OR -refund", 8),
        ("bag OR lang:es", 8),
        ("(bag OR -lost) luggage OR -late", 27),  # the first group is anchored by "luggage"; "-late" is not
        ("NOT (bag -refund)", 6),  # De Morgan: -bag OR refund, and "-bag" alone matches almost anything
    ],
)
def test_every_alternative_needs_a_positive_term(query: str, column: int) -> None:
    with pytest.raises(QueryError) as raised:
        parse(query)
    assert str(raised.value) == (
        f"column {column}: this alternative has no positive word, phrase, hashtag or mention, so the query "
        "would match posts that contain none of its terms (almost every post)"
    )


@pytest.mark.parametrize(
    "query", ["(bag OR -lost) luggage", "bag -refund lang:es", "NOT (-bag OR refund)", "(bag OR #bag) -from:x"]
)
def test_negations_and_fields_are_fine_next_to_a_positive_term(query: str) -> None:
    assert parse(query).terms()


def test_query_errors_are_invalid_input() -> None:
    assert issubclass(QueryError, InvalidInput)


def test_the_limits_on_length_terms_and_nesting() -> None:
    longest = "bag " + "x" * (MAX_QUERY_LENGTH - 4)
    assert parse(longest).terms()
    with pytest.raises(QueryError, match=r"^a query is at most 2000 characters \(this one has 2001\)$"):
        parse(longest + "x")
    most_terms = " OR ".join(f"w{i}" for i in range(MAX_TERMS))
    assert len(parse(most_terms).terms()) == MAX_TERMS
    with pytest.raises(QueryError, match=r"^a query has at most 100 terms \(this one has 101\)$"):
        parse(most_terms + " w100")
    deepest = "(" * MAX_DEPTH + "bag" + ")" * MAX_DEPTH
    assert parse(deepest).matches(Post("bag"))
    with pytest.raises(QueryError, match=r"^column 21: parentheses nest deeper than 20 levels$"):
        parse("(" + deepest + ")")


# real tweets

RULE = '@united AND (bag* OR luggage) -"thank you"'


@pytest.fixture(scope="module")
def tweets(data_dir: Path) -> dict[str, str]:
    """Tweet text by id (the file repeats some ids with the same text)."""
    with (data_dir / "airline_tweets.csv").open(newline="", encoding="utf-8") as file:
        return {row["tweet_id"]: row["text"] for row in csv.DictReader(file)}


def test_a_rule_over_the_real_airline_tweets_agrees_with_plain_regular_expressions(tweets: dict[str, str]) -> None:
    # The same rule written independently as regular expressions over the decoded text: "@united" not inside a
    # word or address; "bag..." or "luggage" as a word or hashtag, not a mention; "thank" then "you" with only
    # punctuation or spaces between them, neither of them a mention.
    mention = re.compile(r"(?<!\w)@united(?!\w)", re.IGNORECASE)
    bags = re.compile(r"(?<![\w@])(?:bag\w*|luggage(?!\w))", re.IGNORECASE)
    thanks = re.compile(r"(?<![\w@])thank\W+(?<!@)you(?!\w)", re.IGNORECASE)
    texts = [html.unescape(text) for text in tweets.values()]
    expected = [t for t in texts if mention.search(t) and bags.search(t) and not thanks.search(t)]

    rule = parse(RULE)
    found = [t for t in texts if rule.matches(Post(t))]

    assert found == expected
    assert len(found) > 250  # not vacuous: the file has hundreds of United baggage complaints


@pytest.mark.parametrize(
    ("tweet_id", "expected"),
    [
        ("570224727047872514", True),  # "@united So they didn't drop my bag overnight &amp; now I'm leaving..."
        ("569197921150902272", True),  # "...&amp; I still do not have my bags...which means no clothes"
        ("569653506291818496", False),  # "...And my luggage is in SFO. ... Thank you. #flythefriendlyskies"
        ("569257818789978113", False),  # "@united thank you for compensating us for our 4 lost bags."
        ("569199676282564609", False),  # "@JetBlue my mom's baggage is lost": not addressed to @united
    ],
)
def test_concrete_real_tweets(tweets: dict[str, str], tweet_id: str, expected: bool) -> None:
    assert parse(RULE).matches(Post(tweets[tweet_id])) is expected


def test_explanations_and_folding_on_real_tweets(tweets: dict[str, str]) -> None:
    assert parse(RULE).matched_terms(Post(tweets["570224727047872514"])) == ["@united", "bag*"]
    assert parse("bogota").matches(Post(tweets["569552374882299904"]))  # "...flight 1008 Bogotá-Houston?"
    cafe = Post(tweets["569905884425383936"])  # "...EatUp Cafe isn't available on this BOS --&gt; SFO flight"
    assert parse('café "bos sfo"').matches(cafe)
    delayed = prepare(Post(tweets["570307026263384064"]))  # "@united Delayed due to lack of crew ... #united"
    assert not parse("delay").matches(delayed)
    assert parse("delay* united").matches(delayed)  # "united" as the hashtag, not the mention
    assert parse("#united").matches(delayed)
    assert not parse("united").matches(Post(tweets["570224727047872514"]))  # only "@united" in that one
