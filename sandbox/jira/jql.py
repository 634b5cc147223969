"""A JQL parser for the subset the sandbox answers; anything else is a JqlError (HTTP 400).

query    := [or] [ORDER BY field [ASC|DESC] {, field [ASC|DESC]}]
or       := and {OR and}          and := not {AND not}
not      := NOT not | ( or ) | clause
clause   := field op value | field [NOT] IN ( value {, value} ) | field IS [NOT] EMPTY
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KEYWORDS = {"AND", "OR", "NOT", "IN", "IS", "EMPTY", "NULL", "ORDER", "BY", "ASC", "DESC"}
COMPARISONS = ("!=", ">=", "<=", "!~", "=", ">", "<", "~")
TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|>=|<=|!~|=|>|<|~)
      | (?P<punct>[(),])
      | (?P<word>[^\s"'(),=!<>~]+)
    )""",
    re.VERBOSE,
)


class JqlError(ValueError):
    """The query cannot be answered; the message is what Jira's 400 body says."""


@dataclass(frozen=True)
class Token:
    kind: str  # string | op | punct | word | keyword
    text: str


@dataclass(frozen=True)
class Clause:
    """`field op values`: op is one of COMPARISONS, `in`, `not in`, `is`, `is not`."""

    field: str
    op: str
    values: tuple[str | None, ...]  # None stands for EMPTY / NULL


@dataclass(frozen=True)
class BoolOp:
    op: str  # and | or
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node


Node = Clause | BoolOp | Not


@dataclass(frozen=True)
class Query:
    """A parsed JQL query: the condition (None matches everything) and the sort keys."""

    where: Node | None
    order: tuple[tuple[str, bool], ...]  # (field, descending)


def tokenize(jql: str) -> list[Token]:
    """The tokens of a query; quoted strings lose their quotes and escapes."""
    tokens, pos = [], 0
    text = jql.rstrip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise JqlError(f"Error in the JQL Query: unexpected character at position {pos}.")
        pos = match.end()
        kind = match.lastgroup or "word"
        value = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif kind == "word" and value.upper() in KEYWORDS:
            kind, value = "keyword", value.upper()
        tokens.append(Token(kind, value))
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self, offset: int = 0) -> Token | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def next(self, expected: str = "more input") -> Token:
        token = self.peek()
        if token is None:
            raise JqlError(f"Error in the JQL Query: Expecting {expected} but reached the end.")
        self.pos += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "keyword" and token.text in words

    def expect(self, kind: str, text: str) -> None:
        token = self.next(repr(text))
        if token.kind != kind or token.text != text:
            raise JqlError(f"Error in the JQL Query: Expecting '{text}' but got '{token.text}'.")

    def query(self) -> Query:
        where = None if self.at_keyword("ORDER") or self.peek() is None else self.or_()
        order: list[tuple[str, bool]] = []
        if self.at_keyword("ORDER"):
            self.next()
            self.expect("keyword", "BY")
            order.append(self.sort_key())
            while self.peek() is not None and self.peek() == Token("punct", ","):
                self.next()
                order.append(self.sort_key())
        if self.peek() is not None:
            raise JqlError(f"Error in the JQL Query: unexpected '{self.next().text}'.")
        return Query(where, tuple(order))

    def sort_key(self) -> tuple[str, bool]:
        field = self.field()
        if self.at_keyword("ASC", "DESC"):
            return field, self.next().text == "DESC"
        return field, False

    def or_(self) -> Node:
        parts = [self.and_()]
        while self.at_keyword("OR"):
            self.next()
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else BoolOp("or", tuple(parts))

    def and_(self) -> Node:
        parts = [self.not_()]
        while self.at_keyword("AND"):
            self.next()
            parts.append(self.not_())
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def not_(self) -> Node:
        if self.at_keyword("NOT"):
            self.next()
            return Not(self.not_())
        if self.peek() == Token("punct", "("):
            self.next()
            inner = self.or_()
            self.expect("punct", ")")
            return inner
        return self.clause()

    def field(self) -> str:
        token = self.next("a field name")
        if token.kind not in ("word", "string"):
            raise JqlError(
                f"Error in the JQL Query: Expecting a field name but got '{token.text}'."
            )
        return token.text

    def clause(self) -> Clause:
        field = self.field()
        token = self.next("an operator")
        if token.kind == "op":
            return Clause(field, token.text, (self.value(),))
        if token.kind == "keyword" and token.text == "IS":
            negated = self.at_keyword("NOT") and bool(self.next())
            if not self.at_keyword("EMPTY", "NULL"):
                raise JqlError("Error in the JQL Query: Expecting 'EMPTY' or 'NULL' after IS.")
            self.next()
            return Clause(field, "is not" if negated else "is", (None,))
        negated = token.kind == "keyword" and token.text == "NOT"
        if negated:
            token = self.next("IN")
        if token.kind != "keyword" or token.text != "IN":
            raise JqlError(f"Error in the JQL Query: Expecting an operator but got '{token.text}'.")
        self.expect("punct", "(")
        values = [self.value()]
        while self.peek() == Token("punct", ","):
            self.next()
            values.append(self.value())
        self.expect("punct", ")")
        return Clause(field, "not in" if negated else "in", tuple(values))

    def value(self) -> str | None:
        token = self.next("a value")
        if token.kind == "keyword" and token.text in ("EMPTY", "NULL"):
            return None
        if token.kind not in ("word", "string"):
            raise JqlError(f"Error in the JQL Query: Expecting a value but got '{token.text}'.")
        if token.kind == "word" and self.peek() == Token("punct", "("):
            raise JqlError(
                f"Unsupported in the launchsync Jira sandbox: the JQL function '{token.text}()'; "
                "use literal values."
            )
        return token.text


def parse(jql: str) -> Query:
    """Parse a JQL query or raise JqlError."""
    return _Parser(tokenize(jql)).query()
