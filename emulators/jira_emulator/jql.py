"""A JQL subset: parse a query, check it is bounded, compile it to a predicate and an order.

Supported: `AND`, `OR`, `NOT`, parentheses; `=`, `!=`, `>`, `>=`, `<`, `<=`, `IN`,
`NOT IN`, `IS [NOT] EMPTY`; the fields project, key/issuekey/id, updated/created/resolved
(and their *Date aliases), status, issuetype/type, priority, resolution, assignee,
reporter, labels, sprint; the functions now() and currentUser(); `ORDER BY` over
updated, created, resolved, key/issuekey, id and project (at most 7 fields).

Date literals without a zone are read in the requesting user's time zone at minute
resolution (`jiratime.parse_date_literal`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import catalog
from .jiratime import DATE_FORMAT_HINT, parse_date_literal
from .records import Account, Issue
from .settings import AmbiguousTime
from .site import Site

Predicate = Callable[[Issue], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|>=|<=|!~|=|>|<|~)
      | (?P<punct>[(),])
      | (?P<word>[^\s"'(),=!<>~]+)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"}
MAX_ORDER_BY_FIELDS = 7


class JqlError(ValueError):
    """A query Jira would refuse with HTTP 400; the message is Jira's wording."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # string | op | punct | word | end
    text: str
    position: int

    def is_keyword(self, word: str) -> bool:
        return self.kind == "word" and self.text.lower() == word


@dataclass(frozen=True, slots=True)
class Value:
    text: str
    function: bool = False
    empty: bool = False


@dataclass(frozen=True, slots=True)
class Clause:
    field: str
    operator: str  # = != > >= < <= in "not in" is "is not"
    values: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class BoolNode:
    operator: str  # and | or | not
    children: tuple[Node, ...]


Node = Clause | BoolNode


@dataclass(frozen=True, slots=True)
class SortSpec:
    field: str
    ascending: bool


@dataclass(frozen=True, slots=True)
class Query:
    where: Node | None
    order: tuple[SortSpec, ...]

    @property
    def bounded(self) -> bool:
        return self.where is not None


def _tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise JqlError(
                f"Error in the JQL Query: The character '{text[position]}' is a reserved JQL "
                f"character. (line 1, character {position + 1})"
            )
        kind = match.lastgroup or "word"
        raw = match.group(kind)
        if kind == "string":
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        tokens.append(Token(kind, raw, match.start(kind) + 1))
        position = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def _advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _fail(self, expected: str) -> JqlError:
        got = self.token
        shown = "the end of the query" if got.kind == "end" else f"'{got.text}'"
        return JqlError(
            f"Error in the JQL Query: Expecting {expected} but got {shown}. "
            f"(line 1, character {got.position})"
        )

    def parse(self) -> Query:
        where: Node | None = None
        if self.token.kind != "end" and not self.token.is_keyword("order"):
            where = self._or()
        order: list[SortSpec] = []
        if self.token.is_keyword("order"):
            self._advance()
            if not self.token.is_keyword("by"):
                raise self._fail("'by'")
            self._advance()
            order.append(self._sort())
            while self.token.kind == "punct" and self.token.text == ",":
                self._advance()
                order.append(self._sort())
        if self.token.kind != "end":
            raise self._fail("either 'OR', 'AND' or 'ORDER BY'")
        if len(order) > MAX_ORDER_BY_FIELDS:
            raise JqlError(
                f"The 'ORDER BY' clause can contain at most {MAX_ORDER_BY_FIELDS} fields."
            )
        return Query(where, tuple(order))

    def _sort(self) -> SortSpec:
        if self.token.kind not in ("word", "string"):
            raise self._fail("a field name")
        name = self._advance().text
        ascending = True
        if self.token.is_keyword("asc") or self.token.is_keyword("desc"):
            ascending = self._advance().text.lower() == "asc"
        return SortSpec(name, ascending)

    def _or(self) -> Node:
        children = [self._and()]
        while self.token.is_keyword("or"):
            self._advance()
            children.append(self._and())
        return children[0] if len(children) == 1 else BoolNode("or", tuple(children))

    def _and(self) -> Node:
        children = [self._not()]
        while self.token.is_keyword("and"):
            self._advance()
            children.append(self._not())
        return children[0] if len(children) == 1 else BoolNode("and", tuple(children))

    def _not(self) -> Node:
        if self.token.is_keyword("not"):
            self._advance()
            return BoolNode("not", (self._not(),))
        if self.token.kind == "punct" and self.token.text == "(":
            self._advance()
            node = self._or()
            if not (self.token.kind == "punct" and self.token.text == ")"):
                raise self._fail("')'")
            self._advance()
            return node
        return self._clause()

    def _clause(self) -> Clause:
        if self.token.kind not in ("word", "string") or self.token.text.lower() in _KEYWORDS:
            raise self._fail("a field name")
        field = self._advance().text
        if self.token.kind == "op":
            operator = self._advance().text
            return Clause(field, operator, (self._value(),))
        if self.token.is_keyword("not") or self.token.is_keyword("in"):
            negated = self.token.is_keyword("not")
            self._advance()
            if negated:
                if not self.token.is_keyword("in"):
                    raise self._fail("'IN'")
                self._advance()
            return Clause(field, "not in" if negated else "in", self._list())
        if self.token.is_keyword("is"):
            self._advance()
            negated = self.token.is_keyword("not")
            if negated:
                self._advance()
            if not (self.token.is_keyword("empty") or self.token.is_keyword("null")):
                raise self._fail("'EMPTY' or 'NULL'")
            self._advance()
            return Clause(field, "is not" if negated else "is", (Value("", empty=True),))
        raise self._fail("an operator")

    def _list(self) -> tuple[Value, ...]:
        if not (self.token.kind == "punct" and self.token.text == "("):
            raise self._fail("'('")
        self._advance()
        values = [self._value()]
        while self.token.kind == "punct" and self.token.text == ",":
            self._advance()
            values.append(self._value())
        if not (self.token.kind == "punct" and self.token.text == ")"):
            raise self._fail("')'")
        self._advance()
        return tuple(values)

    def _value(self) -> Value:
        token = self.token
        if token.kind == "string":
            self._advance()
            return Value(token.text)
        if token.kind == "word":
            self._advance()
            if token.text.lower() in ("empty", "null"):
                return Value("", empty=True)
            if self.token.kind == "punct" and self.token.text == "(":
                self._advance()
                if not (self.token.kind == "punct" and self.token.text == ")"):
                    raise self._fail("')'")
                self._advance()
                return Value(token.text, function=True)
            return Value(token.text)
        raise self._fail("either a value, list or function")


def parse(text: str) -> Query:
    return _Parser(text).parse()


# -- compilation -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompileContext:
    site: Site
    account: Account
    now_ms: int
    ambiguous: AmbiguousTime

    @property
    def tz_name(self) -> str:
        return self.account.user.time_zone


_DATE_FIELDS = {
    "updated": "updated_ms",
    "updateddate": "updated_ms",
    "created": "created_ms",
    "createddate": "created_ms",
    "resolved": "resolution_ms",
    "resolutiondate": "resolution_ms",
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def _no_value(value: str, field: str) -> JqlError:
    return JqlError(f"The value '{value}' does not exist for the field '{field}'.")


def _unsupported(clause: Clause) -> JqlError:
    return JqlError(
        f"The operator '{clause.operator}' is not supported by the '{clause.field}' field."
    )


def _membership(
    clause: Clause, resolve: Callable[[Value], set[Any]], attr: Callable[[Issue], Any]
) -> Predicate:
    if clause.operator in ("is", "is not"):
        want_empty = clause.operator == "is"
        return lambda issue: (attr(issue) in (None, ())) == want_empty
    if clause.operator not in ("=", "!=", "in", "not in"):
        raise _unsupported(clause)
    wanted: set[Any] = set()
    for value in clause.values:
        wanted |= resolve(value)
    negate = clause.operator in ("!=", "not in")

    def predicate(issue: Issue) -> bool:
        current = attr(issue)
        values = current if isinstance(current, tuple) else (current,)
        return any(v in wanted for v in values) != negate

    return predicate


def _date_predicate(clause: Clause, attr: str, ctx: CompileContext) -> Predicate:
    if clause.operator in ("is", "is not"):
        want_empty = clause.operator == "is"
        return lambda issue: (getattr(issue, attr) is None) == want_empty
    compare = _COMPARE.get(clause.operator)
    if compare is None:
        raise _unsupported(clause)
    value = clause.values[0]
    if value.function:
        if value.text.lower() != "now":
            raise JqlError(f"Unable to find JQL function '{value.text}()'.")
        moment: int | None = ctx.now_ms
    else:
        moment = parse_date_literal(
            value.text, tz_name=ctx.tz_name, now_ms=ctx.now_ms, ambiguous=ctx.ambiguous
        )
    if moment is None:
        raise JqlError(
            f"Date value '{value.text}' for field '{clause.field}' is invalid. {DATE_FORMAT_HINT}"
        )

    def predicate(issue: Issue) -> bool:
        current = getattr(issue, attr)
        return current is not None and compare(current, moment)

    return predicate


def _issue_ref(clause: Clause, ctx: CompileContext) -> Predicate:
    def resolve(value: Value) -> Issue:
        issue = ctx.site.find_issue(value.text)
        if issue is None or not ctx.account.can_browse(issue.project_id):
            raise JqlError(
                f"An issue with key '{value.text}' does not exist for field '{clause.field}'."
            )
        return issue

    if clause.operator in (">", ">=", "<", "<="):
        pivot = resolve(clause.values[0])
        compare = _COMPARE[clause.operator]
        return lambda issue: (
            issue.project_id == pivot.project_id and compare(issue.number, pivot.number)
        )
    return _membership(clause, lambda v: {resolve(v).id}, lambda issue: issue.id)


def _named(
    clause: Clause, field: str, options: Sequence[tuple[str, str]]
) -> Callable[[Value], set[Any]]:
    def resolve(value: Value) -> set[Any]:
        if field == "resolution" and value.text.lower() == "unresolved":
            return {None}
        found = {i for i, name in options if value.text.lower() in (i, name.lower())}
        if not found:
            raise _no_value(value.text, clause.field)
        return found

    return resolve


def _user_resolver(clause: Clause, ctx: CompileContext) -> Callable[[Value], set[Any]]:
    def resolve(value: Value) -> set[Any]:
        if value.function and value.text.lower() == "currentuser":
            return {ctx.account.user.account_id}
        if value.text in ctx.site.users:
            return {value.text}
        matches = {
            u.account_id
            for u in ctx.site.users.values()
            if value.text.lower() in (u.display_name.lower(), (u.email or "").lower())
        }
        if not matches:
            raise _no_value(value.text, clause.field)
        return matches

    return resolve


def _compile_clause(clause: Clause, ctx: CompileContext) -> Predicate:
    field = clause.field.lower()
    if field in _DATE_FIELDS:
        return _date_predicate(clause, _DATE_FIELDS[field], ctx)
    if field == "project":

        def resolve_project(value: Value) -> set[Any]:
            project = ctx.site.project_by_key_or_id(value.text)
            if project is None:
                matches = [p for p in ctx.site.projects.values() if p.name == value.text]
                project = matches[0] if matches else None
            if project is None or not ctx.account.can_browse(project.id):
                raise _no_value(value.text, "project")
            return {project.id}

        return _membership(clause, resolve_project, lambda issue: issue.project_id)
    if field in ("key", "issuekey", "id"):
        return _issue_ref(clause, ctx)
    if field == "status":
        options = [(s.id, s.name) for s in catalog.STATUSES]
        return _membership(clause, _named(clause, field, options), lambda i: i.status_id)
    if field in ("issuetype", "type"):
        options = [(t.id, t.name) for t in catalog.ISSUE_TYPES]
        return _membership(clause, _named(clause, field, options), lambda i: i.issue_type_id)
    if field == "priority":
        options = [(p.id, p.name) for p in catalog.PRIORITIES]
        return _membership(clause, _named(clause, field, options), lambda i: i.priority_id)
    if field == "resolution":
        options = [(r.id, r.name) for r in catalog.RESOLUTIONS]
        return _membership(clause, _named(clause, field, options), lambda i: i.resolution_id)
    if field in ("assignee", "reporter"):
        attr = "assignee_id" if field == "assignee" else "reporter_id"
        return _membership(clause, _user_resolver(clause, ctx), lambda i: getattr(i, attr))
    if field == "labels":
        return _membership(clause, lambda v: {v.text}, lambda i: i.labels)
    if field == "sprint":
        options = [(str(s.id), s.name) for s in ctx.site.sprints]

        def resolve_sprint(value: Value) -> set[Any]:
            return {int(i) for i in _named(clause, field, options)(value)}

        return _membership(clause, resolve_sprint, lambda i: i.sprint_ids)
    raise JqlError(
        f"Field '{clause.field}' does not exist or you do not have permission to view it."
    )


def _compile_node(node: Node, ctx: CompileContext) -> Predicate:
    if isinstance(node, Clause):
        return _compile_clause(node, ctx)
    parts = [_compile_node(child, ctx) for child in node.children]
    if node.operator == "and":
        return lambda issue: all(p(issue) for p in parts)
    if node.operator == "or":
        return lambda issue: any(p(issue) for p in parts)
    only = parts[0]
    return lambda issue: not only(issue)


def compile_where(query: Query, ctx: CompileContext) -> Predicate:
    if query.where is None:
        return lambda issue: True
    return _compile_node(query.where, ctx)


# -- ordering --------------------------------------------------------------------------

_SORTABLE = {
    "updated": "updated",
    "updateddate": "updated",
    "created": "created",
    "createddate": "created",
    "resolved": "resolved",
    "resolutiondate": "resolved",
    "key": "key",
    "issuekey": "key",
    "id": "key",
    "project": "project",
}
# Jira's default for a query without ORDER BY, as the issue navigator shows it.
DEFAULT_ORDER = (SortSpec("created", False),)

SortValue = int | str


def _descending(value: SortValue) -> Any:
    if isinstance(value, int):
        return -value
    # Reverse string order: negated code points, with a sentinel so "AB" sorts after "ABC".
    return (*(-ord(ch) for ch in value), 1)


@dataclass(frozen=True, slots=True)
class Ordering:
    specs: tuple[SortSpec, ...]

    @classmethod
    def of(cls, query: Query) -> Ordering:
        specs = []
        for spec in query.order or DEFAULT_ORDER:
            name = _SORTABLE.get(spec.field.lower())
            if name is None:
                known = spec.field.lower() in {
                    c.lower() for f in catalog.FIELDS for c in f.clause_names
                }
                if known:
                    raise JqlError(f"Field '{spec.field}' does not support sorting.")
                raise JqlError(
                    f"Field '{spec.field}' does not exist or you do not have permission to view it."
                )
            specs.append(SortSpec(name, spec.ascending))
        return cls(tuple(specs))

    def raw(self, issue: Issue) -> list[SortValue]:
        """JSON-safe sort values of an issue, the issue id last as the tie-breaker."""
        values: list[SortValue] = []
        for spec in self.specs:
            if spec.field == "updated":
                values.append(issue.updated_ms)
            elif spec.field == "created":
                values.append(issue.created_ms)
            elif spec.field == "resolved":
                values.append(issue.resolution_ms if issue.resolution_ms is not None else -1)
            elif spec.field == "key":
                values.extend((issue.project_key, issue.number))
            else:
                values.append(issue.project_key)
        values.append(issue.id)
        return values

    def comparable(self, raw: Sequence[SortValue]) -> tuple[Any, ...]:
        directions: list[bool] = []
        for spec in self.specs:
            directions.extend([spec.ascending] * (2 if spec.field == "key" else 1))
        directions.append(True)
        if len(directions) != len(raw):
            raise JqlError("Invalid format of nextPageToken")
        return tuple(v if asc else _descending(v) for v, asc in zip(raw, directions, strict=True))
