"""Reading a query's dataset clauses (FROM, FROM NAMED, GRAPH), refusing updates and SERVICE.

A full SPARQL parse is not needed for any of them: FROM and SERVICE are reserved words
that only appear as keywords, and an update starts with one of a few keywords after the
prologue. The scanner skips strings, IRIs and comments so their content never counts.
(Oxigraph, like the SPARQL grammar, reads `\\u` escapes only inside strings and IRIs, so
no escape can spell a keyword the scanner would miss.)

A scanner without the grammar's context can take `<` for the start of an IRI where the
parser reads "less than" (`FILTER(1<2)SERVICE :x #>`). What stops a SERVICE call for sure is
the query processes' network namespace (`kg.confined`); where the kernel allows none, the
`strict` check refuses SERVICE in any reading of the query's text.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from kg.errors import Forbidden, InvalidInput

_PARTS = {
    "ws": r"\s+",
    "comment": r"\#[^\n\r]*",  # a comment ends at either line break
    "string": (
        "'''"
        + r"(?:[^'\\]|\\.|'(?!''))*"
        + "'''"
        + "|"
        + '"""'
        + r'(?:[^"\\]|\\.|"(?!""))*'
        + '"""'
        + "|"
        + r"'(?:[^'\\\n\r]|\\.)*'"
        + "|"
        + r'"(?:[^"\\\n\r]|\\.)*"'
    ),
    "iri": r"<[^<>\"{}|^`\\\x00-\x20]*>",
    "var": r"[?$]\w+",
    "pname": r"[A-Za-z][\w.-]*:[\w.:%-]*|:[\w.:%-]*",
    "word": r"[A-Za-z_]\w*",
    "other": r".",
}
_TOKEN = re.compile("|".join(f"(?P<{k}>{v})" for k, v in _PARTS.items()), re.DOTALL)
# the same without IRIs: every `<` an operator, so nothing an IRI seemed to hold can hide
_STRICT = re.compile("|".join(f"(?P<{k}>{v})" for k, v in _PARTS.items() if k != "iri"), re.DOTALL)
MAX_NESTING = 128
"""Brackets a query may nest; pyoxigraph's parser overflows its stack near 3,000."""
SERVICE_REFUSED = "SERVICE is not allowed: kg's SPARQL endpoint never queries other endpoints"
_UPDATE_KEYWORDS = {
    "INSERT",
    "DELETE",
    "LOAD",
    "CLEAR",
    "DROP",
    "CREATE",
    "ADD",
    "MOVE",
    "COPY",
    "WITH",
}


@dataclass(frozen=True)
class Dataset:
    """The graphs a query names in FROM and FROM NAMED clauses (absolute IRIs)."""

    default: tuple[str, ...] = ()
    named: tuple[str, ...] = ()
    reads_named: bool = False
    """Whether the query has a GRAPH pattern, the only way to read named graphs."""
    calls_service: bool = False
    """Whether the query has a SERVICE clause (federation: kg never makes such calls)."""
    form: str = ""
    """The query's form, upper case: SELECT, ASK, CONSTRUCT or DESCRIBE (or an update's keyword)."""

    @property
    def given(self) -> bool:
        """Whether the query has any dataset clause."""
        return bool(self.default or self.named)


def _tokens(query: str, grammar: re.Pattern[str] = _TOKEN) -> list[tuple[str, str]]:
    return [
        (m.lastgroup or "other", m.group())
        for m in grammar.finditer(query)
        if m.lastgroup not in ("ws", "comment")
    ]


def _nesting(tokens: list[tuple[str, str]]) -> int:
    depth = deepest = 0
    for kind, text in tokens:
        if kind == "other" and text in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif kind == "other" and text in "})]":
            depth -= 1
    return deepest


def service_in_any_reading(query: str) -> bool:
    """Whether the word SERVICE, followed by what can follow the keyword, appears anywhere
    outside strings and comments, `<...>` not read as IRIs. Refuses a few honest queries
    with IRIs like `<urn:service:x>`, so it is used only where no namespace backs the scan.

    >>> service_in_any_reading("SELECT * { FILTER(1<2)SERVICE :x #>\\n{ ?s ?p ?o } }")
    True
    >>> service_in_any_reading("SELECT * { ?s a <http://schema.org/Service> }")
    False
    """
    tokens = _tokens(query, _STRICT)
    for (kind, text), (after_kind, after) in itertools.pairwise([*tokens, ("other", "")]):
        if kind == "pname" and text.split(":", 1)[0].upper() == "SERVICE":
            return True  # `SERVICE:x` reads as the keyword, then `:x`
        if kind == "word" and text.upper() == "SERVICE":
            follows = after.upper() == "SILENT" or after in ("<", ":") or after_kind in ("var", "pname")
            if follows:
                return True
    return False


def _resolve(kind: str, text: str, prefixes: dict[str, str], base: str) -> str | None:
    if kind == "iri":
        value = text[1:-1]
        return value if ":" in value or not base else base + value
    if kind == "pname":
        prefix, _, local = text.partition(":")
        return prefixes[prefix] + local if prefix in prefixes else None
    return None


def scan(query: str) -> tuple[bool, Dataset]:
    """Return (is it an update?, the dataset it names).

    >>> update, found = scan("PREFIX g: <http://g/> SELECT * FROM g:a FROM NAMED <http://g/b> { ?s ?p ?o }")
    >>> update, found.default, found.named, found.reads_named, found.form
    (False, ('http://g/a',), ('http://g/b',), False, 'SELECT')
    >>> scan("SELECT ?graph { GRAPH ?g { ?graph ?p 'GRAPH' } }")[1].reads_named
    True
    >>> scan("SELECT ?graph { ?graph <http://x/GRAPH> ?o }")[1].reads_named
    False
    >>> scan("# SELECT\\nPREFIX x: <http://x#> INSERT DATA { <a> <b> 'FROM <c>' }")[0]
    True
    """
    tokens = _tokens(query)
    prefixes: dict[str, str] = {}
    base = ""
    default: list[str] = []
    named: list[str] = []
    i = 0
    first_keyword: str | None = None
    reads_named = calls_service = False
    while i < len(tokens):
        kind, text = tokens[i]
        upper = text.upper()
        if kind == "word" and upper == "PREFIX" and i + 2 < len(tokens):
            prefixes[tokens[i + 1][1].rstrip(":")] = tokens[i + 2][1][1:-1]
            i += 3
            continue
        if kind == "word" and upper == "BASE" and i + 1 < len(tokens):
            base = tokens[i + 1][1][1:-1]
            i += 2
            continue
        if kind == "word" and first_keyword is None:
            first_keyword = upper
        reads_named = reads_named or (kind == "word" and upper == "GRAPH")
        calls_service = calls_service or (kind == "word" and upper == "SERVICE")
        if kind == "pname":
            # `SERVICE:x` with no prefix `SERVICE` declared is the keyword, then `:x`
            prefix = text.split(":", 1)[0]
            keyword = prefix.upper() if prefix not in prefixes else ""
            reads_named = reads_named or keyword == "GRAPH"
            calls_service = calls_service or keyword == "SERVICE"
        if kind == "word" and upper == "FROM" and i + 1 < len(tokens):
            target = named if tokens[i + 1][1].upper() == "NAMED" else default
            j = i + 2 if target is named else i + 1
            if j < len(tokens):
                resolved = _resolve(*tokens[j], prefixes, base)
                if resolved is not None:
                    target.append(resolved)
            i = j + 1
            continue
        i += 1
    if _nesting(tokens) > MAX_NESTING:
        raise InvalidInput(f"query nested deeper than {MAX_NESTING}", field="query")
    dataset = Dataset(tuple(default), tuple(named), reads_named, calls_service, first_keyword or "")
    return first_keyword in _UPDATE_KEYWORDS, dataset


def read_only(query: str, *, strict: bool = False) -> Dataset:
    """The dataset a query names, if it may run here: no update (`Forbidden`), no SERVICE
    (`InvalidInput`: kg's endpoint never reaches the network), `strict`ly where no network
    namespace backs the scan.

    >>> read_only("SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    Traceback (most recent call last):
    ...
    kg.errors.InvalidInput: SERVICE is not allowed: kg's SPARQL endpoint never queries other endpoints
    """
    is_update, dataset = scan(query)
    if is_update:
        raise Forbidden("SPARQL updates are not allowed: this endpoint is read-only")
    if dataset.calls_service or (strict and service_in_any_reading(query)):
        raise InvalidInput(SERVICE_REFUSED, field="query")
    return dataset


def without_dataset(query: str) -> str:
    """The query with its FROM and FROM NAMED clauses taken out, for servers that add them to
    the protocol's dataset instead of being overridden (Virtuoso): kg then sends the graphs
    they name, those the caller may read, as protocol parameters.

    >>> without_dataset("SELECT * FROM <http://g/a> FROM NAMED <http://g/b> { ?s ?p ?o } # FROM <x>")
    'SELECT *   { ?s ?p ?o } # FROM <x>'
    """
    found = [
        (m.lastgroup, m.group(), m.start(), m.end())
        for m in _TOKEN.finditer(query)
        if m.lastgroup not in ("ws", "comment")
    ]
    cuts: list[tuple[int, int]] = []
    for i, (kind, text, start, _) in enumerate(found):
        if kind == "word" and text.upper() == "FROM" and i + 1 < len(found):
            j = i + 2 if found[i + 1][1].upper() == "NAMED" else i + 1
            if j < len(found) and found[j][0] in ("iri", "pname"):
                cuts.append((start, found[j][3]))
    for start, end in reversed(cuts):
        query = query[:start] + query[end:]
    return query
