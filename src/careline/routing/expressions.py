"""The expression language of queue targets and workflow filters (docs/routing.md).

A queue's target expression is tested against an agent's attributes, a workflow filter against a conversation's:
``"luggage" in skills and skills.luggage >= 7``, ``channel in ["x", "facebook"] and priority >= 60``.
A tokenizer and a recursive-descent parser (never Python's eval) compile an expression once into closures.

Semantics, chosen to be predictable rather than clever:
- a missing name or key is null, never an error; every comparison involving null is false (``!=``, ``in`` and
  ``not in`` included) except ``== null`` and ``!= null``, which test presence;
- ``==`` holds only between values of one kind (number, string, boolean, list, mapping): ``1 == true`` and
  ``"1" == 1`` are false; ``!=`` is its negation; ``<``, ``<=``, ``>``, ``>=`` compare numbers with numbers and
  strings with strings, anything else is false;
- ``x in y`` is membership in a list or set, or a key of a mapping (``"luggage" in skills``), never a substring;
  when ``y`` is none of these, ``in`` and ``not in`` are both false;
- a bare value is tested for truthiness (null, false, 0, "", empty lists and mappings are false);
- ``not`` covers the comparison after it (``not a == b`` is ``not (a == b)``); then ``and``, then ``or``;
- keywords are case-insensitive (``AND``), names are not; comparisons cannot be chained (``1 < a < 3``).
"""

from __future__ import annotations

import dataclasses
import json
import operator
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from careline.kernel.errors import InvalidInput

# One module of ~400 lines on purpose: the tokenizer, parser, semantics and explanations share one node type and
# one set of rules, and the routing engine needs only `parse`, `Expression` and `ExpressionError` from it.
MAX_LENGTH = 2000
MAX_DEPTH = 30
MAX_TERMS = 200

Test = Callable[[Mapping[str, Any]], Any]
_TOKEN = re.compile(
    r"(?P<space>\s+)|(?P<number>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)"
    r"|(?P<op>[=!<>&|]+)|(?P<punct>[()\[\],])",
    re.ASCII,
)
_CONSTANTS = {"true": True, "false": False, "null": None}
_KEYWORDS = {"and", "or", "not", "in"}
_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
_SUGGESTIONS = {"=>": ">=", "=<": "<=", "=": "==", "===": "==", "<>": "!=", "!": "not", "&&": "and", "||": "or"}


class ExpressionError(InvalidInput):
    """An expression that cannot be parsed, or names an attribute the schema does not know."""


class _Token(NamedTuple):
    kind: str  # literal, name, keyword, op, punct, end
    text: str
    value: Any
    start: int
    end: int


@dataclasses.dataclass(frozen=True)
class _Node:
    kind: str  # literal, name, list, compare, not, and, or
    value: Any  # the literal, the name's path, the comparison's operator
    children: tuple[_Node, ...]
    start: int
    end: int


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(source):
        if source[pos] == '"':
            tokens.append(_string(source, pos))
            pos = tokens[-1].end
            continue
        match = _TOKEN.match(source, pos)
        if match is None:
            raise ExpressionError(f'column {pos + 1}: unexpected character "{source[pos]}"')
        kind, text, end = match.lastgroup, match.group(), match.end()
        if kind == "number":
            tokens.append(_Token("literal", text, float(text) if "." in text else int(text), pos, end))
        elif kind == "name" and text.lower() in _CONSTANTS:
            tokens.append(_Token("literal", text, _CONSTANTS[text.lower()], pos, end))
        elif kind == "name":
            keyword = text.lower() in _KEYWORDS
            tokens.append(_Token("keyword" if keyword else "name", text, text.lower() if keyword else text, pos, end))
        elif kind == "op" and text not in _COMPARISONS:
            hint = f' (did you mean "{_SUGGESTIONS[text]}"?)' if text in _SUGGESTIONS else ""
            raise ExpressionError(f'unknown operator "{text}" at column {pos + 1}{hint}')
        elif kind != "space":
            tokens.append(_Token(str(kind), text, text, pos, end))
        pos = end
    return [*tokens, _Token("end", "", None, len(source), len(source))]


def _string(source: str, start: int) -> _Token:
    chars: list[str] = []
    pos = start + 1
    while pos < len(source):
        char = source[pos]
        if char == '"':
            return _Token("literal", source[start : pos + 1], "".join(chars), start, pos + 1)
        if char == "\\":
            escaped = source[pos + 1 : pos + 2]
            if escaped not in ('"', "\\"):
                raise ExpressionError(f'column {pos + 1}: unknown escape "\\{escaped}" (only \\" and \\\\)')
            char, pos = escaped, pos + 1
        chars.append(char)
        pos += 1
    raise ExpressionError(f"unclosed string starting at column {start + 1}")


class _Parser:
    """Recursive descent; each method parses one precedence level and returns its node."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens, self.pos, self.depth, self.terms = tokens, 0, 0, 0

    def peek(self, offset: int = 0) -> _Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.peek()
        self.pos += 1
        return token

    def is_keyword(self, word: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token.kind == "keyword" and token.value == word

    def whole(self) -> _Node:
        node = self.boolean("or", None)
        token = self.peek()
        if token.text in (")", "]"):
            raise ExpressionError(f'column {token.start + 1}: "{token.text}" closes nothing')
        if token.kind != "end":
            raise _unexpected(token, 'an operator, "and", "or" or the end')
        return node

    def boolean(self, word: str, after: str | None) -> _Node:
        """``or`` joins ``and`` groups, ``and`` joins ``not`` terms; a run of one keyword becomes one node."""
        parse_part: Callable[[str | None], _Node] = self.negation if word == "and" else lambda a: self.boolean("and", a)
        parts = [parse_part(after)]
        while self.is_keyword(word):
            parts.append(parse_part(f'"{self.take().text}"'))
        if len(parts) == 1:
            return parts[0]
        return _Node(word, None, tuple(parts), parts[0].start, parts[-1].end)

    def negation(self, after: str | None) -> _Node:
        if not self.is_keyword("not"):
            return self.comparison(after)
        token = self.take()
        self.enter(token)
        operand = self.negation('"not"')
        self.depth -= 1
        return _Node("not", None, (operand,), token.start, operand.end)

    def comparison(self, after: str | None) -> _Node:
        left = self.operand(after)
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise ExpressionError(f"column {left.start + 1}: more than {MAX_TERMS} terms")
        op = self.comparison_operator()
        if op is None:
            return left
        right = self.operand(f'"{op}"')
        chained = self.peek()
        if self.comparison_operator() is not None:
            raise ExpressionError(f'column {chained.start + 1}: comparisons cannot be chained; join them with "and"')
        return _Node("compare", op, (left, right), left.start, right.end)

    def comparison_operator(self) -> str | None:
        if self.peek().kind == "op" or self.is_keyword("in"):
            return str(self.take().value)
        if self.is_keyword("not") and self.is_keyword("in", 1):
            self.pos += 2
            return "not in"
        return None

    def operand(self, after: str | None) -> _Node:
        token = self.take()
        if token.kind == "literal":
            return _Node("literal", token.value, (), token.start, token.end)
        if token.kind == "name":
            return _Node("name", tuple(token.value.split(".")), (), token.start, token.end)
        if token.text == "[":
            return self.list_of_literals(token)
        if token.text != "(":
            where = f" after {after}" if after else ""
            raise ExpressionError(f"column {token.start + 1}: expected a value{where}")
        self.enter(token)
        inner = self.boolean("or", '"("')
        self.depth -= 1
        self.close(token, ")", '")", "and" or "or"')
        return dataclasses.replace(inner, start=token.start, end=self.peek(-1).end)

    def list_of_literals(self, opening: _Token) -> _Node:
        items: list[Any] = []
        while not (self.peek().text == "]" and not items):
            item = self.take()
            if item.kind == "end":
                raise ExpressionError(f'"[" at column {opening.start + 1} is never closed')
            if item.kind != "literal":
                what = 'expected a list item after ","' if item.text == "]" else "list items must be literals"
                raise ExpressionError(f"column {item.start + 1}: {what} (strings, numbers, true, false or null)")
            items.append(item.value)
            if self.peek().text != ",":
                break
            self.take()
        self.close(opening, "]", '"," or "]"')
        return _Node("list", tuple(items), (), opening.start, self.peek(-1).end)

    def close(self, opening: _Token, closing: str, expected: str) -> None:
        token = self.take()
        if token.kind == "end":
            raise ExpressionError(f'"{opening.text}" at column {opening.start + 1} is never closed')
        if token.text != closing:
            raise _unexpected(token, expected)

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"column {token.start + 1}: nested deeper than {MAX_DEPTH} levels")


def _unexpected(token: _Token, expected: str) -> ExpressionError:
    return ExpressionError(f'column {token.start + 1}: unexpected "{token.text}" (expected {expected})')


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "mapping"
    return "list" if isinstance(value, list | tuple | set | frozenset) else "other"


def _equal(left: Any, right: Any) -> bool:
    if type(left) is type(right):
        return bool(left == right)
    kind = _kind(left)
    if kind != _kind(right) or kind == "other":
        return False
    if kind == "list" and (isinstance(left, set | frozenset) or isinstance(right, set | frozenset)):
        # a set has no order, so it equals a list holding the same items in any order
        return all(_member(item, right) for item in left) and all(_member(item, left) for item in right)
    if kind == "list":
        return len(left) == len(right) and all(map(_equal, left, right))
    return bool(left == right)


def _member(item: Any, container: Any) -> bool | None:
    """Membership in a list, set or mapping's keys; None when ``container`` is none of those."""
    if not isinstance(container, list | tuple | set | frozenset | Mapping):
        return None
    if type(item) is str:  # a str only ever equals a str, so Python's own (hashed) membership is exact
        return item in container
    return any(_equal(item, candidate) for candidate in container)


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def ordered(left: Any, right: Any) -> bool:
        kind = _kind(left)
        return kind in ("number", "string") and kind == _kind(right) and compare(left, right)

    return ordered


_PREDICATES: dict[str, Callable[[Any, Any], bool]] = {
    "==": _equal,
    "!=": lambda left, right: not _equal(left, right),
    "<": _ordered(operator.lt),
    "<=": _ordered(operator.le),
    ">": _ordered(operator.gt),
    ">=": _ordered(operator.ge),
    "in": lambda item, container: _member(item, container) is True,
    "not in": lambda item, container: _member(item, container) is False,
}


def _getter(path: tuple[str, ...]) -> Test:
    head, rest = path[0], path[1:]
    if not rest:
        return lambda attributes: attributes.get(head)

    def get(attributes: Mapping[str, Any]) -> Any:
        value = attributes.get(head)
        for key in rest:
            if not isinstance(value, Mapping):
                return None
            value = value.get(key)
        return value

    return get


def _compile(node: _Node) -> Test:
    if node.kind in ("literal", "list"):
        constant = node.value
        return lambda attributes: constant
    if node.kind == "name":
        return _getter(node.value)
    if node.kind == "not":
        operand = _compile(node.children[0])
        return lambda attributes: not operand(attributes)
    if node.kind in ("and", "or"):
        test = _compile(node.children[0])
        for child in node.children[1:]:
            test = _join(node.kind, test, _compile(child))
        return test
    return _compare(node.value, *node.children)


def _join(word: str, left: Test, right: Test) -> Test:
    if word == "and":
        return lambda attributes: bool(left(attributes) and right(attributes))
    return lambda attributes: bool(left(attributes) or right(attributes))


def _compare(op: str, left_node: _Node, right_node: _Node) -> Test:
    left, right = _compile(left_node), _compile(right_node)
    null = [n for n in (left_node, right_node) if n.kind == "literal" and n.value is None]
    if op in ("==", "!=") and null:  # the one place null is a value: `x == null` tests absence
        other = left if null[0] is right_node else right
        present = op == "!="
        return lambda attributes: (other(attributes) is not None) is present
    predicate = _PREDICATES[op]

    def compare(attributes: Mapping[str, Any]) -> bool:
        first, second = left(attributes), right(attributes)
        return first is not None and second is not None and predicate(first, second)

    return compare


def _walk(node: _Node) -> Iterator[_Node]:
    yield node
    for child in node.children:
        yield from _walk(child)


# What `json.dumps(value, ensure_ascii=False, default=str)` builds on every call, built once.
_JSON = json.JSONEncoder(ensure_ascii=False, default=str)
_QUOTE: Callable[[str], str] = json.encoder.encode_basestring  # what _JSON writes a string with
_SPECIAL_FLOATS = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _scalar(value: Any) -> str | None:
    """The JSON text `_JSON` writes for a plain scalar, without its machinery (explanations run per decision);
    None for anything else."""
    kind = type(value)
    if kind is str:
        return _QUOTE(value)
    if kind is int:
        return int.__repr__(value)
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    if kind is float:
        text = float.__repr__(value)
        return _SPECIAL_FLOATS.get(text, text)
    return None


def _scalars(values: Iterable[Any]) -> list[str] | None:
    texts = []
    for value in values:
        text = _scalar(value)
        if text is None:
            return None
        texts.append(text)
    return texts


def _json(value: Any) -> str:
    """JSON text the way `_JSON` writes it: scalars, and lists and str-keyed mappings of scalars (skills,
    languages) the quick way; anything else (nested, odd keys, a value that contains itself) through `_JSON`."""
    text = _scalar(value)
    if text is not None:
        return text
    kind = type(value)
    if kind is list or kind is tuple:
        items = _scalars(value)
        if items is not None:
            return f"[{', '.join(items)}]"
    elif kind is dict and all(type(key) is str for key in value):
        values = _scalars(value.values())
        if values is not None:
            return "{" + ", ".join(f"{_QUOTE(key)}: {text}" for key, text in zip(value, values, strict=True)) + "}"
    return _JSON.encode(value)


def _render(value: Any) -> str:
    try:
        text = _json(value)
    except (TypeError, ValueError):  # keys json cannot write, or a value that contains itself
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Step(NamedTuple):
    """One node of an explanation, prepared at parse time: a group (``and``, ``or``, ``not``) of steps, or a
    comparison (or bare value) with its compiled test, its source text and the names whose values it shows."""

    kind: str  # and, or, not, test
    parts: tuple[_Step, ...]
    test: Test | None
    text: str
    names: tuple[tuple[str, Test], ...]  # (dotted name, its getter)
    grouped: bool  # a `not` over an `and` or `or` group, shown in parentheses


def _prepare(node: _Node, source: str) -> _Step:
    if node.kind in ("and", "or", "not"):
        parts = tuple(_prepare(child, source) for child in node.children)
        grouped = node.kind == "not" and node.children[0].kind in ("and", "or")
        return _Step(node.kind, parts, None, "", (), grouped)
    names = tuple((".".join(n.value), _getter(n.value)) for n in _walk(node) if n.kind == "name")
    return _Step("test", (), _compile(node), source[node.start : node.end], names, False)


class Expression:
    """A parsed expression: compiled once, evaluated against many attribute mappings."""

    def __init__(self, source: str, root: _Node) -> None:
        self.source = source
        self._root = root
        self._test = _compile(root)
        self._names = frozenset(node.value[0] for node in _walk(root) if node.kind == "name")
        self._explained = _prepare(root, source)  # explain() runs per routing decision: nothing compiles then

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def evaluate(self, attributes: Mapping[str, Any]) -> bool:
        """Whether the attributes match; a missing attribute is null, never an error."""
        return bool(self._test(attributes))

    def names(self) -> frozenset[str]:
        """The top-level attribute names the expression reads."""
        return self._names

    def explain(self, attributes: Mapping[str, Any]) -> str:
        """The verdict and the comparisons that decided it, with the values they saw: ``matched: a >= 7 (8)``."""
        matched, reason = _decide(self._explained, attributes)
        return f"{'matched' if matched else 'not matched'}: {reason}"


def _decide(step: _Step, attributes: Mapping[str, Any]) -> tuple[bool, str]:
    if step.kind in ("and", "or"):
        deciding = step.kind == "or"  # the value that settles the whole group as soon as one part has it
        reasons = []
        for part in step.parts:
            value, reason = _decide(part, attributes)
            if value is deciding:
                return value, reason
            reasons.append(reason)
        return not deciding, f" {step.kind} ".join(reasons)
    if step.kind == "not":
        value, reason = _decide(step.parts[0], attributes)
        return not value, f"not ({reason})" if step.grouped else f"not {reason}"
    assert step.test is not None
    matched = bool(step.test(attributes))
    if not step.names:
        return matched, step.text
    seen = [(name, _render(get(attributes))) for name, get in step.names]
    shown = seen[0][1] if len(seen) == 1 else ", ".join(f"{name}={value}" for name, value in seen)
    return matched, f"{step.text} ({shown})"


def parse(source: str, names: Collection[str] | None = None) -> Expression:
    """Parse and compile ``source``; with ``names``, refuse top-level attributes outside that schema."""
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_LENGTH} characters ({len(source)})")
    if not source.strip():
        raise ExpressionError("empty expression")
    root = _Parser(_tokenize(source)).whole()
    if names is not None:
        for node in _walk(root):
            if node.kind == "name" and node.value[0] not in names:
                known = ", ".join(sorted(names)) or "none"
                where = f"at column {node.start + 1}"
                raise ExpressionError(f'unknown attribute "{node.value[0]}" {where} (known: {known})')
    return Expression(source, root)
