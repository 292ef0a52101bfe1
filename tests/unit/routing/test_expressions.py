"""The expression language of queue targets and workflow filters: syntax, semantics, errors, explanations."""

from __future__ import annotations

import random
from typing import Any

import pytest

from careline.kernel.errors import InvalidInput
from careline.routing.expressions import MAX_DEPTH, MAX_LENGTH, MAX_TERMS, ExpressionError, parse

AGENT: dict[str, Any] = {
    "skills": {"luggage": 8, "billing": 3, "refunds": 5},
    "languages": ["es", "en"],
    "team": "social",
    "seniority": 2,
    "attributes": {"region": "emea", "shift": {"start": 9}},
    "on_call": True,
}
CONVERSATION: dict[str, Any] = {
    "channel": "x",
    "sentiment": "negative",
    "priority": 72,
    "category": "Lost Luggage",
    "public": False,
    "customer_tier": "vip",
    "language": "es",
}


def matches(source: str, attributes: dict[str, Any] | None = None) -> bool:
    return parse(source).evaluate(AGENT if attributes is None else attributes)


# --- literals, names and dotted access -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        '"social" == team',
        'team == "soc\\"ial" or true',
        "seniority == 2",
        "seniority == 2.0",
        "on_call == true",
        'languages == ["es", "en"]',
        "null == null",
        "1.5 > 1",
        "-3 < seniority",
        '"a\\\\b" == "a\\\\b"',
    ],
)
def test_literals_that_hold(source: str) -> None:
    assert matches(source)


@pytest.mark.parametrize("source", ["false", "null", "0", '""', "[]", "nobody", "on_call == false", "true == 1"])
def test_literals_and_values_that_do_not_hold(source: str) -> None:
    assert not matches(source)


def test_a_string_literal_keeps_escaped_quotes_and_backslashes() -> None:
    assert matches('quote == "say \\"hi\\" \\\\o/"', {"quote": 'say "hi" \\o/'})


def test_dotted_names_reach_into_mappings() -> None:
    assert matches("skills.luggage >= 7")
    assert matches('attributes.region == "emea" and attributes.shift.start == 9')


@pytest.mark.parametrize(
    "source", ["skills.missing == 0", "nobody.anything == 1", 'team.name == "social"', "attributes.shift.start.x > 0"]
)
def test_a_missing_name_or_key_or_a_step_into_a_non_mapping_is_null_not_an_error(source: str) -> None:
    assert not matches(source)
    assert matches(source.split(" ")[0] + " == null")


def test_keywords_are_case_insensitive_but_names_are_not() -> None:
    assert matches('TEAM == "social"', {"TEAM": "social"})
    assert not matches('TEAM == "social"')
    assert matches('team == "social" AND "es" In languages Or False')
    assert matches("NOT team == NULL and on_call == TRUE")


# --- comparison semantics --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("seniority < 3", True),
        ("seniority <= 2", True),
        ("seniority > 2", False),
        ("seniority >= 2", True),
        ("seniority != 3", True),
        ("seniority != 2", False),
        ('team < "tech"', True),
        ('team >= "social"', True),
        ('team > "zzz"', False),
    ],
)
def test_ordering_and_inequality(source: str, expected: bool) -> None:
    assert matches(source) is expected


@pytest.mark.parametrize(
    "source",
    [
        'seniority < "3"',
        'seniority == "2"',
        "on_call > 0",
        "on_call == 1",
        "skills > 1",
        "languages >= 1",
        "team < 1",
        "skills == languages",
    ],
)
def test_values_of_different_kinds_never_compare(source: str) -> None:
    assert not matches(source)


def test_inequality_between_different_kinds_holds_because_they_are_not_equal() -> None:
    assert matches('seniority != "2"')
    assert matches("on_call != 1")


@pytest.mark.parametrize(
    "source",
    [
        'language != "en"',
        "language < 3",
        "language >= 3",
        'language in ["es"]',
        'language not in ["en"]',
        "language == other",
        "language != other",
        '"es" in language',
        '"es" not in language',
    ],
)
def test_every_comparison_with_null_is_false(source: str) -> None:
    assert not matches(source, {})


def test_only_equality_with_the_null_literal_tests_presence() -> None:
    assert matches("language == null", {})
    assert matches("null == language", {"language": None})
    assert not matches("language != null", {})
    assert matches("language != null", {"language": "es"})
    assert not matches("language == null", {"language": ""})
    assert matches('not language != "en"', {}), "not turns the false of a null comparison into true"


def test_membership_in_lists_sets_and_mapping_keys() -> None:
    assert matches('"luggage" in skills and "es" in languages')
    assert matches('"pets" not in skills and "fr" not in languages')
    assert matches('"es" in tags', {"tags": frozenset({"es", "vip"})})
    assert matches('seniority in [1, 2, 3] and team in ["social", "voice"]')
    assert matches("3 in levels", {"levels": [1.0, 3.0]})
    assert not matches("true in levels", {"levels": [1, 0]}), "booleans are not numbers, also in lists"
    assert not matches("1 in flags", {"flags": [True]})
    assert matches("2 in codes", {"codes": {2: "b"}})


def test_membership_is_never_a_substring_test() -> None:
    assert not matches('"soc" in team')
    assert not matches('"soc" not in team'), "a string is no container, so both in and not in are false"
    assert not matches("1 in seniority")


def test_a_list_attribute_equals_a_list_literal_item_by_item() -> None:
    assert matches('tags == ["a", 1]', {"tags": ("a", 1)})
    assert not matches('tags == ["a", 1]', {"tags": ["a", True]})
    assert not matches('tags == ["a"]', {"tags": ["a", "b"]})
    assert matches('tags == ["b", "a"]', {"tags": {"a", "b"}}), "a set has no order"
    assert not matches('tags == ["a"]', {"tags": {"a", "b"}})
    assert not matches("tags == [1]", {"tags": {True}}), "nor does it make true a number"


# --- boolean structure and precedence --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("true or true and false", True),  # and binds tighter than or
        ("(true or true) and false", False),
        ("not true or true", True),  # not binds tighter than or
        ("not (true or true)", False),
        ("not false and false", False),  # ... and tighter than and
        ('not team == "x"', True),  # not covers the comparison after it
        ('not team == "social"', False),
        ("not not true", True),
        ("false or false or true", True),
        ("true and true and false", False),
        ('seniority >= 3 or team == "social" and "es" in languages', True),
        ('(seniority >= 3 or team == "social") and "fr" in languages', False),
        ("(((seniority == 2)))", True),
    ],
)
def test_precedence_is_not_then_comparison_then_and_then_or(source: str, expected: bool) -> None:
    assert matches(source) is expected


def test_a_parenthesised_group_can_be_compared() -> None:
    assert matches("(seniority > 1 and on_call) == true")


# --- the examples the routing engine needs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "agent", "expected"),
    [
        ('"luggage" in skills and "es" in languages', AGENT, True),
        ('"luggage" in skills and "es" in languages', {**AGENT, "languages": ["en"]}, False),
        ("skills.luggage >= 7", AGENT, True),
        ("skills.luggage >= 7", {**AGENT, "skills": {"luggage": 6}}, False),
        ("skills.luggage >= 7", {"team": "voice"}, False),
        ('team == "social" or seniority >= 3', {"team": "voice", "seniority": 5}, True),
        ('team == "social" or seniority >= 3', {"team": "voice", "seniority": 1}, False),
    ],
)
def test_queue_targets_over_agents(source: str, agent: dict[str, Any], expected: bool) -> None:
    assert parse(source).evaluate(agent) is expected


@pytest.mark.parametrize(
    ("source", "changes", "expected"),
    [
        ('channel in ["x", "facebook"] and sentiment == "negative" and priority >= 60', {}, True),
        ('channel in ["x", "facebook"] and sentiment == "negative" and priority >= 60', {"channel": "email"}, False),
        ('channel in ["x", "facebook"] and sentiment == "negative" and priority >= 60', {"priority": 59.5}, False),
        ('category == "Lost Luggage" and not public', {}, True),
        ('category == "Lost Luggage" and not public', {"public": True}, False),
        ('category == "Lost Luggage" and not public', {"category": "lost luggage"}, False),
        ('customer_tier in ["vip", "gold"]', {}, True),
        ('customer_tier in ["vip", "gold"]', {"customer_tier": None}, False),
        ('language != "en"', {}, True),
        ('language != "en"', {"language": "en"}, False),
    ],
)
def test_workflow_filters_over_conversations(source: str, changes: dict[str, Any], expected: bool) -> None:
    assert parse(source).evaluate({**CONVERSATION, **changes}) is expected


# --- the expression object --------------------------------------------------------------------------------------


def test_source_and_top_level_names() -> None:
    expression = parse('"luggage" in skills and skills.luggage > 5 or attributes.region == "emea" or not on_call')
    assert expression.source.startswith('"luggage" in skills')
    assert expression.names() == {"skills", "attributes", "on_call"}
    assert parse("true").names() == frozenset()
    assert repr(parse("on_call")) == "Expression('on_call')"


@pytest.mark.parametrize(
    ("source", "explanation"),
    [
        ("skills.luggage >= 7", "matched: skills.luggage >= 7 (8)"),
        ("skills.pets >= 7", "not matched: skills.pets >= 7 (null)"),
        ('team == "social" or seniority >= 3', 'matched: team == "social" ("social")'),
        ('team == "voice" or seniority >= 3', 'not matched: team == "voice" ("social") or seniority >= 3 (2)'),
        ('"es" in languages and seniority > 5', "not matched: seniority > 5 (2)"),
        ('"es" in languages and seniority > 1', 'matched: "es" in languages (["es", "en"]) and seniority > 1 (2)'),
        ("not on_call", "not matched: not on_call (true)"),
        ("not (on_call or seniority > 1)", "not matched: not (on_call (true))"),
        ("seniority == other", "not matched: seniority == other (seniority=2, other=null)"),
        ("true", "matched: true"),
        ("(seniority > 1)", "matched: (seniority > 1) (2)"),
    ],
)
def test_explain_names_what_decided_and_the_values_it_saw(source: str, explanation: str) -> None:
    assert parse(source).explain(AGENT) == explanation


def test_explain_shortens_long_values() -> None:
    explanation = parse('"x" in tags').explain({"tags": [f"tag-{n}" for n in range(50)]})
    assert explanation.endswith("...)") and len(explanation) < 100


# --- errors -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("", "empty expression"),
        ("   ", "empty expression"),
        ("team ==", 'column 8: expected a value after "=="'),
        ('channel == "x" and', 'column 19: expected a value after "and"'),
        ("a OR )", 'column 6: expected a value after "OR"'),
        ("not", 'column 4: expected a value after "not"'),
        ("not in skills", 'column 5: expected a value after "not"'),
        ("()", 'column 2: expected a value after "("'),
        ("== 3", "column 1: expected a value"),
        ('te "abc', "unclosed string starting at column 4"),
        ('a == "x\\"', "unclosed string starting at column 6"),
        ('a == "\\n"', 'column 7: unknown escape "\\n"'),
        ("seniority => 3", 'unknown operator "=>" at column 11 (did you mean ">="?)'),
        ("a =< 3", 'unknown operator "=<" at column 3 (did you mean "<="?)'),
        ("a = 3", 'unknown operator "=" at column 3 (did you mean "=="?)'),
        ("a <> 3", 'unknown operator "<>" at column 3 (did you mean "!="?)'),
        ("a && b", 'unknown operator "&&" at column 3 (did you mean "and"?)'),
        ("a || b", 'unknown operator "||" at column 3 (did you mean "or"?)'),
        ("!a", 'unknown operator "!" at column 1 (did you mean "not"?)'),
        ("a << b", 'unknown operator "<<" at column 3'),
        ("(a == 1) or b == 2)", 'column 19: ")" closes nothing'),
        ("a == 1]", 'column 7: "]" closes nothing'),
        ("(a == 1", '"(" at column 1 is never closed'),
        ("a in [1, 2", '"[" at column 6 is never closed'),
        ("(a == 1 b", 'column 9: unexpected "b" (expected ")", "and" or "or")'),
        ("a in [1 2]", 'column 9: unexpected "2" (expected "," or "]")'),
        ("a in [1, b]", "column 10: list items must be literals"),
        ("a in [1, [2]]", "column 10: list items must be literals"),
        ("a in [1,]", 'column 9: expected a list item after ","'),
        ("a b", 'column 3: unexpected "b" (expected an operator, "and", "or" or the end)'),
        ("a not b", 'column 3: unexpected "not"'),
        ("1 < a < 3", 'column 7: comparisons cannot be chained; join them with "and"'),
        ('a $ "x"', 'column 3: unexpected character "$"'),
        ("skills. luggage", 'column 7: unexpected character "."'),
        ("a == 1.", 'column 7: unexpected character "."'),
    ],
)
def test_syntax_errors_say_what_and_where(source: str, message: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        parse(source)
    assert message in str(raised.value)
    assert isinstance(raised.value, InvalidInput)


def test_limits_on_length_depth_and_terms() -> None:
    with pytest.raises(ExpressionError, match=f"longer than {MAX_LENGTH} characters"):
        parse("a or " * 400 + "a")
    parse("(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH)
    with pytest.raises(ExpressionError, match=f"column {MAX_DEPTH + 1}: nested deeper than {MAX_DEPTH} levels"):
        parse("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(ExpressionError, match="nested deeper"):
        parse("not " * (MAX_DEPTH + 1) + "a")
    parse(" or ".join(["a"] * MAX_TERMS))
    with pytest.raises(ExpressionError, match=f"more than {MAX_TERMS} terms"):
        parse(" or ".join(["a"] * (MAX_TERMS + 1)))


def test_a_schema_of_names_catches_typos_when_the_expression_is_saved() -> None:
    schema = {"skills", "languages", "team", "seniority"}
    assert parse('skills.luggage >= 7 and team == "social"', names=schema).names() == {"skills", "team"}
    with pytest.raises(ExpressionError) as raised:
        parse('team == "social" and skils.luggage >= 7', names=schema)
    assert str(raised.value) == 'unknown attribute "skils" at column 22 (known: languages, seniority, skills, team)'
    with pytest.raises(ExpressionError, match=r"\(known: none\)"):
        parse("team == 1", names=set())


def test_evaluation_never_raises_on_odd_attribute_values() -> None:
    odd: dict[str, Any] = {"a": object(), "b": {1: 2}, "c": [[1], {"x": 1}], "d": float("nan")}
    for source in ["a == b", "a < 1", "1 in c", "[1] in c", '"x" in b', "d == d", "a in c", "c == [1]", "not a"]:
        parse(source).evaluate(odd)
        parse(source).explain(odd)


# --- properties, by brute force ------------------------------------------------------------------------------------

ATOMS = ["a", "b", "not a", "a == b", "a != b", "a < b", "a >= b", "a in b", "a not in b", "a == null", "b.k > 1"]
VALUES: list[Any] = [None, True, False, 0, 1, 2.5, -1, "", "k", "x", [], [1, "k"], {"k": 2}, {"k": "x"}, {}]


def random_attributes(rng: random.Random) -> dict[str, Any]:
    return {name: rng.choice(VALUES) for name in ("a", "b") if rng.random() < 0.85}


def test_boolean_operators_agree_with_their_parts_on_random_attributes() -> None:
    rng = random.Random(20240304)
    for _ in range(400):
        x = random_attributes(rng)
        p, q = rng.sample(ATOMS, 2)
        left, right = parse(p).evaluate(x), parse(q).evaluate(x)
        assert parse(f"{p} and {q}").evaluate(x) == (left and right), (p, q, x)
        assert parse(f"{p} or {q}").evaluate(x) == (left or right), (p, q, x)
        assert parse(f"not ({p})").evaluate(x) == (not left), (p, x)
        assert parse(f"({p}) and ({q}) or not ({p})").evaluate(x) == ((left and right) or not left), (p, q, x)


def test_negated_operators_are_complements_whenever_neither_side_is_null() -> None:
    rng = random.Random(7)
    pairs = [("==", "!="), ("<", ">="), (">", "<=")]
    for _ in range(400):
        x = random_attributes(rng)
        a, b = x.get("a"), x.get("b")
        if a is None or b is None:
            continue
        kinds = {"number" if type(v) in (int, float) else type(v).__name__ for v in (a, b)}
        same_kind_ordered = kinds in ({"number"}, {"str"})
        for op, negation in pairs:
            holds, negated = parse(f"a {op} b").evaluate(x), parse(f"a {negation} b").evaluate(x)
            if op == "==" or same_kind_ordered:
                assert holds != negated, (op, x)
            else:
                assert not holds and not negated, (op, x)
        if isinstance(b, list | dict):
            assert parse("a in b").evaluate(x) != parse("a not in b").evaluate(x), x


def test_explain_agrees_with_evaluate_on_random_attributes() -> None:
    rng = random.Random(11)
    for _ in range(300):
        x = random_attributes(rng)
        source = " or ".join(" and ".join(rng.sample(ATOMS, 2)) for _ in range(2))
        expression = parse(source)
        assert expression.explain(x).startswith("matched" if expression.evaluate(x) else "not matched"), (source, x)
