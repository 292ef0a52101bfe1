"""Listening rules' query language: boolean searches over the inbound social stream (docs/listening.md).

Every inbound post is matched against every active rule, so the work is split in two: `parse` compiles a query
once into a tree of small predicates, and `prepare` tokenises a post once into the words, hashtags and mentions
that all rules then read. Both sides fold case and accents and split on the same notion of a word, which is what
makes "whole words", prefixes and phrases agree between a query and a post.
"""

from __future__ import annotations

import dataclasses
import html
import re
import unicodedata
from collections.abc import Callable
from operator import attrgetter
from typing import Literal

from careline.kernel.errors import InvalidInput

MAX_QUERY_LENGTH = 2000
MAX_TERMS = 100
MAX_DEPTH = 20
FIELDS = {"lang": "language", "channel": "channel", "account": "account", "from": "author"}

# A sigil counts only at the start of a token: in "me@example.com" the "@" is part of an address, not a mention.
_POST_TOKEN = re.compile(r"(?<!\w)[#@]\w+|\w+")
_WORD = re.compile(r"\w+")
# A query is whitespace, parentheses, quoted phrases (possibly unclosed, to say so) and runs of anything else.
_QUERY_CHUNK = re.compile(r'\s+|[()]|"[^"]*"?|[^\s()"]+')
_FIELD = re.compile(r"([A-Za-z_]+):(.*)", re.DOTALL)


class QueryError(InvalidInput):
    """A listening query that cannot be compiled; the message says what is wrong and where."""


@dataclasses.dataclass(frozen=True)
class Post:
    """What a listening rule sees of an inbound message."""

    text: str
    language: str | None = None
    channel: str | None = None
    account: str | None = None  # the brand account the post was addressed to
    author: str | None = None  # the author's id or handle


@dataclasses.dataclass(frozen=True)
class PreparedPost:
    """A post tokenised once for all rules; `words` holds plain words and hashtag bodies, never mentions."""

    words: frozenset[str]
    hashtags: frozenset[str]
    mentions: frozenset[str]
    sequence: str  # every token in order ("word", "#tag", "@handle"), space-separated and space-framed
    language: str | None
    channel: str | None
    account: str | None
    author: str | None


Predicate = Callable[[PreparedPost], bool]


def fold(text: str) -> str:
    """Case and accents folded: "Café" and "CAFE" both become "cafe"."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _field_value(field: str, value: str | None) -> str | None:
    # Handles are written with or without "@"; language tags as "es-MX" or "es_MX".
    if value is None:
        return None
    return fold(value).replace("_", "-") if field == "lang" else fold(value).removeprefix("@")


def prepare(post: Post) -> PreparedPost:
    """Tokenise a post once (HTML entities decoded, case and accents folded) for matching against many rules."""
    tokens = _POST_TOKEN.findall(fold(html.unescape(post.text)))
    words, hashtags, mentions = set(tokens), set[str](), set[str]()
    for token in tokens:  # one pass: this runs for every inbound post
        if token[0] in "#@":
            words.discard(token)
            (hashtags if token[0] == "#" else mentions).add(token[1:])
    return PreparedPost(
        words=frozenset(words | hashtags),
        hashtags=frozenset(hashtags),
        mentions=frozenset(mentions),
        sequence=f" {' '.join(tokens)} ",
        language=_field_value("lang", post.language),
        channel=_field_value("channel", post.channel),
        account=_field_value("account", post.account),
        author=_field_value("from", post.author),
    )


@dataclasses.dataclass(frozen=True)
class _Term:
    source: str  # as written in the query, to explain a match
    test: Predicate
    content: bool  # a word, phrase, hashtag or mention; fields only narrow a search
    cheap: bool = False  # one set lookup or comparison


@dataclasses.dataclass(frozen=True)
class _Node:
    op: Literal["term", "not", "and", "or"]
    column: int
    children: tuple[_Node, ...] = ()
    term: _Term | None = None


_TokenKind = Literal["(", ")", "AND", "OR", "NOT", "-", "term"]
_FIXED_TOKENS: dict[str, _TokenKind] = {"(": "(", ")": ")", "AND": "AND", "OR": "OR", "NOT": "NOT"}


@dataclasses.dataclass(frozen=True)
class _Token:
    kind: _TokenKind
    text: str
    column: int


class Query:
    """A compiled listening query, evaluated against many posts."""

    def __init__(self, source: str, root: _Node) -> None:
        self.source = source
        self._test = _compile(root)
        positive: dict[str, Predicate] = {}
        for term in _positive_terms(root, True):
            positive.setdefault(term.source, term.test)
        self._terms = tuple(positive.items())

    def __repr__(self) -> str:
        return f"Query({self.source!r})"

    def matches(self, post: Post | PreparedPost) -> bool:
        """Whether the post satisfies the query (prepare the post once when matching it against many queries)."""
        return self._test(post if isinstance(post, PreparedPost) else prepare(post))

    def terms(self) -> tuple[str, ...]:
        """The positive words, phrases, hashtags and mentions, as written, in order of appearance."""
        return tuple(source for source, _ in self._terms)

    def matched_terms(self, post: Post | PreparedPost) -> list[str]:
        """The positive terms that occur in the post: why it matched."""
        prepared = post if isinstance(post, PreparedPost) else prepare(post)
        return [source for source, test in self._terms if test(prepared)]


def parse(query: str) -> Query:
    """Compile a listening query, or raise QueryError saying what is wrong and at which column."""
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryError(f"a query is at most {MAX_QUERY_LENGTH} characters (this one has {len(query)})")
    if not query.strip():
        raise QueryError("empty query")
    tokens = _lex(query)
    if (count := sum(t.kind == "term" for t in tokens)) > MAX_TERMS:
        raise QueryError(f"a query has at most {MAX_TERMS} terms (this one has {count})")
    root = _Parser(tokens).parse()
    if not any(_positive_terms(root, True)):
        raise QueryError(
            "a query needs at least one positive word, phrase, hashtag or mention: NOT terms and fields only "
            "narrow a search, and alone they would match almost every post"
        )
    if (column := _loose_column(root, True)) is not None:
        raise QueryError(
            f"column {column}: this alternative has no positive word, phrase, hashtag or mention, so the query "
            "would match posts that contain none of its terms (almost every post)"
        )
    return Query(query, root)


def _lex(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    for chunk in _QUERY_CHUNK.finditer(query):
        text, column = chunk.group(), chunk.start() + 1
        # A leading "-" negates what it is glued to: a word here, or the phrase or group that follows it.
        while text.startswith("-"):
            if len(text) == 1 and query[chunk.end() : chunk.end() + 1] not in ('"', "("):
                raise QueryError(f'column {column}: "-" must be glued to the term it excludes, as in -refund')
            tokens.append(_Token("-", "-", column))
            text, column = text[1:], column + 1
        if text and not text.isspace():
            tokens.append(_Token(_FIXED_TOKENS.get(text, "term"), text, column))
    return tokens


class _Parser:
    """Recursive descent; precedence NOT > AND > OR, and adjacent terms are joined by an implicit AND."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens, self.position, self.depth = tokens, 0, 0

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def parse(self) -> _Node:
        root = self.disjunction()
        if (token := self.peek()) is not None:  # the loops stop early only at a ")" with no "(" open
            raise QueryError(f'column {token.column}: ")" closes nothing')
        return root

    def operator(self) -> _Token:
        operator = self.take()
        following = self.peek()
        if following is None or following.kind in (")", "AND", "OR"):
            raise QueryError(f"column {operator.column}: {operator.kind} needs a term on both sides")
        return operator

    def disjunction(self) -> _Node:
        parts = [self.conjunction()]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.operator()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else _Node("or", parts[0].column, tuple(parts))

    def conjunction(self) -> _Node:
        parts = [self.negation()]
        while (token := self.peek()) is not None and token.kind not in ("OR", ")"):
            if token.kind == "AND":
                self.operator()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else _Node("and", parts[0].column, tuple(parts))

    def negation(self) -> _Node:
        first, negations = self.tokens[self.position], 0  # the callers check that a token follows
        while (token := self.peek()) is not None and token.kind in ("NOT", "-"):
            self.take()
            negations += 1
        if negations and (token is None or token.kind not in ("term", "(")):
            what = "NOT" if first.kind == "NOT" else '"-"'
            raise QueryError(f"column {first.column}: {what} needs a term after it")
        node = self.primary()
        return _Node("not", first.column, (node,)) if negations % 2 else node

    def primary(self) -> _Node:
        token = self.take()
        if token.kind in ("AND", "OR"):
            raise QueryError(f"column {token.column}: {token.kind} needs a term on both sides")
        if token.kind == ")":
            raise QueryError(f'column {token.column}: ")" closes nothing')
        if token.kind == "term":
            return _Node("term", token.column, term=_term(token.text, token.column))
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryError(f"column {token.column}: parentheses nest deeper than {MAX_DEPTH} levels")
        following = self.peek()
        if following is None:
            raise QueryError(f'column {token.column}: "(" is never closed')
        if following.kind == ")":
            raise QueryError(f'column {token.column}: empty parentheses "()"')
        node = self.disjunction()
        if self.peek() is None:
            raise QueryError(f'column {token.column}: "(" is never closed')
        self.take()
        self.depth -= 1
        return node


def _term(text: str, column: int) -> _Term:
    if text.startswith('"'):
        if len(text) == 1 or not text.endswith('"'):
            raise QueryError(f"unclosed quote starting at column {column}")
        tokens = _POST_TOKEN.findall(fold(text[1:-1]))
        if not tokens:
            raise QueryError(f"column {column}: the phrase {text} has no letters or digits to match")
        return _Term(text, _phrase(tokens), content=True)
    if field := _FIELD.fullmatch(text):
        name = field.group(1).lower()
        value = _field_value(name, field.group(2))
        if name not in FIELDS:
            raise QueryError(f'column {column}: unknown field "{name}:" (fields: {", ".join(FIELDS)})')
        if not value:
            raise QueryError(f'column {column}: the field "{name}:" needs a value, as in {name}:something')
        return _Term(text, _field(FIELDS[name], value), content=False, cheap=True)
    sigil = text[0] if text[0] in "#@" else ""
    body = text[len(sigil) :]
    prefix = body.endswith("*")
    body = body.removesuffix("*")
    if "*" in body:
        raise QueryError(f'column {column}: "*" is allowed only at the end of a word, as in delay*')
    words = _WORD.findall(fold(body))
    if not words:
        raise QueryError(f'column {column}: "{text}" has no letters or digits to match')
    if len(words) > 1 and (sigil or prefix):
        what = "a hashtag or mention" if sigil else 'a "*" prefix'
        raise QueryError(f'column {column}: "{text}" is not a single word, which {what} must be')
    if len(words) > 1:  # "e-mail", "don't": the same words the post tokeniser sees, one after the other
        return _Term(text, _phrase(words), content=True)
    return _Term(text, _word(sigil, words[0], prefix), content=True, cheap=not prefix)


def _word(sigil: str, word: str, prefix: bool) -> Predicate:
    if prefix:  # a substring test in C on the framed sequence beats looping over the words in Python
        starts = [f" {sigil}{word}"] if sigil else [f" {word}", f" #{word}"]
        return lambda post: any(start in post.sequence for start in starts)
    get = attrgetter({"": "words", "#": "hashtags", "@": "mentions"}[sigil])
    return lambda post: word in get(post)


def _phrase(tokens: list[str]) -> Predicate:
    # A plain word also matches its hashtag form, as a bare word does; "#tag" and "@handle" match only themselves.
    parts = [re.escape(t) if t[0] in "#@" else "#?" + re.escape(t) for t in tokens]
    pattern = re.compile(f" {' '.join(parts)} ")
    required = frozenset(t for t in tokens if t[0] not in "#@")  # a cheap set test rejects most posts first
    return lambda post: required <= post.words and pattern.search(post.sequence) is not None


def _field(attribute: str, value: str) -> Predicate:
    get = attrgetter(attribute)
    if attribute == "language":  # "lang:es" also matches the regional variants "es-MX", "es-AR"
        return lambda post: (lang := get(post)) is not None and (lang == value or lang.startswith(value + "-"))
    return lambda post: get(post) == value


def _compile(node: _Node) -> Predicate:
    if node.term is not None:
        return node.term.test
    if node.op == "not":
        inner = _compile(node.children[0])
        return lambda post: not inner(post)
    # Nested two-way lambdas short-circuit without a generator per call; cheap tests run first (order does not
    # change the result, the tests have no effects).
    tests = [_compile(child) for child in sorted(node.children, key=_cost)]
    combined = tests.pop()
    while tests:
        combined = _both(tests.pop(), combined) if node.op == "and" else _either(tests.pop(), combined)
    return combined


def _both(first: Predicate, second: Predicate) -> Predicate:
    return lambda post: first(post) and second(post)


def _either(first: Predicate, second: Predicate) -> Predicate:
    return lambda post: first(post) or second(post)


def _cost(node: _Node) -> int:
    return 0 if node.term is not None and node.term.cheap else 1


def _positive_terms(node: _Node, positive: bool) -> list[_Term]:
    """The content terms under an even number of negations, in order."""
    if node.term is not None:
        return [node.term] if positive and node.term.content else []
    flip = node.op == "not"
    return [term for child in node.children for term in _positive_terms(child, positive != flip)]


def _loose_column(node: _Node, positive: bool) -> int | None:
    """Where the query can match a post that has none of its positive terms; None when it cannot."""
    if node.term is not None:
        return None if positive and node.term.content else node.column
    if node.op == "not":  # point at "-refund" rather than at "refund"
        inner = _loose_column(node.children[0], not positive)
        return node.column if inner is not None and node.children[0].term is not None else inner
    columns = [_loose_column(child, positive) for child in node.children]
    if (node.op == "and") == positive:  # a conjunction (De Morgan under NOT): one anchored part is enough
        return None if None in columns else columns[0]
    return next((column for column in columns if column is not None), None)  # a disjunction: every part
