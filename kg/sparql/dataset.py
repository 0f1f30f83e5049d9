"""Reading a query's dataset clauses (FROM, FROM NAMED, GRAPH), refusing updates and SERVICE.

A full SPARQL parse is not needed for any of them: FROM and SERVICE are reserved words
that only appear as keywords, and an update starts with one of a few keywords after the
prologue. The scanner skips strings, IRIs and comments so their content never counts.
(Oxigraph, like the SPARQL grammar, reads `\\u` escapes only inside strings and IRIs, so
no escape can spell a keyword the scanner would miss.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.errors import Forbidden, InvalidInput

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\s]*>)
  | (?P<var>[?$]\w+)
  | (?P<pname>[A-Za-z][\w.-]*:[\w.:%-]*|:[\w.:%-]*)
  | (?P<word>[A-Za-z_]\w*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
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

    @property
    def given(self) -> bool:
        """Whether the query has any dataset clause."""
        return bool(self.default or self.named)


def _tokens(query: str) -> list[tuple[str, str]]:
    return [
        (m.lastgroup or "other", m.group())
        for m in _TOKEN.finditer(query)
        if m.lastgroup not in ("ws", "comment")
    ]


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

    >>> scan("PREFIX g: <http://g/> SELECT * FROM g:a FROM NAMED <http://g/b> { ?s ?p ?o }")
    (False, Dataset(default=('http://g/a',), named=('http://g/b',), reads_named=False, calls_service=False))
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
    dataset = Dataset(tuple(default), tuple(named), reads_named, calls_service)
    return first_keyword in _UPDATE_KEYWORDS, dataset


def read_only(query: str) -> Dataset:
    """The dataset a query names, if it may run here: no update (`Forbidden`), no SERVICE
    (`InvalidInput`: kg's endpoint never reaches the network).

    >>> read_only("SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    Traceback (most recent call last):
    ...
    kg.errors.InvalidInput: SERVICE is not allowed: kg's SPARQL endpoint never queries other endpoints
    """
    is_update, dataset = scan(query)
    if is_update:
        raise Forbidden("SPARQL updates are not allowed: this endpoint is read-only")
    if dataset.calls_service:
        raise InvalidInput(SERVICE_REFUSED, field="query")
    return dataset
