"""Binding values to a named query for a server that takes only query text.

pyoxigraph binds values with `substitutions`; the SPARQL 1.1 Protocol has nothing like it.
The same meaning in standard SPARQL is a `VALUES` block joined first: it goes right after
the `{` that opens the WHERE clause. The values are terms (`pyoxigraph` IRIs and literals,
whose text is escaped N-Triples), never text from a caller, and only kg's own queries of
`queries/` are bound this way.
"""

from __future__ import annotations

import re

import pyoxigraph as ox

from kg.store.base import Bindings

_SKIP = re.compile(
    r"""\#[^\n\r]*|'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\""""
    r"""|'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*"|<[^<>"{}|^`\\\x00-\x20]*>"""
    r"""|(?P<where>\bWHERE\b)|(?P<open>\{)""",
    re.IGNORECASE,
)


def where_opens(query: str) -> int:
    """The offset just past the `{` opening the query's WHERE clause (strings, IRIs and
    comments skipped; a CONSTRUCT template comes before the WHERE keyword)."""
    first_open = None
    for match in _SKIP.finditer(query):
        if match.group("where"):
            for after in _SKIP.finditer(query, match.end()):
                if after.group("open"):
                    return after.end()
            break
        if match.group("open") and first_open is None:
            first_open = match.end()
    if first_open is None:
        raise ValueError("the query has no group pattern to bind values in")
    return first_open


def bind(query: str, bindings: Bindings) -> str:
    """`query` with `bindings` joined first, as a VALUES block; a bound graph variable is also
    written into its GRAPH patterns (the same meaning), where planners see it as a constant:
    Virtuoso 7.2 estimates hours for a query whose graph comes from VALUES, and refuses it.

    >>> import pyoxigraph as ox
    >>> bind("SELECT ?g ?x WHERE { GRAPH ?g { ?x ?p ?o } }", {"g": ox.NamedNode("http://g")})
    'SELECT ?g ?x WHERE { VALUES (?g) { (<http://g>) }\\n GRAPH <http://g> { ?x ?p ?o } }'
    """
    if not bindings:
        return query
    if any(not name.isidentifier() for name in bindings):
        raise ValueError(f"not variable names: {sorted(bindings)}")
    names = " ".join(f"?{name}" for name in bindings)
    values = " ".join(str(term) for term in bindings.values())
    at = where_opens(query)
    body = query[at:]
    for name, term in bindings.items():
        if isinstance(term, ox.NamedNode):
            body = re.sub(rf"\bGRAPH\s+[?$]{name}\b", f"GRAPH {term}", body)
    return f"{query[:at]} VALUES ({names}) {{ ({values}) }}\n{body}"
