"""Writing N-Triples by hand, because building millions of term objects costs more than the parse.

Everything the extractors emit passes through these helpers, so escaping lives here only.
What kg prints as Turtle (or TriG, N3) goes through `serialize_graph`, for its prefixes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import IO
from urllib.parse import quote

import pyoxigraph as ox

from kg.vocab import PREFIXES

_ECHAR = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
# What N-Triples forbids in an IRI, and what no IRI may hold (space, controls)
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\\x7f-\x9f]')
MAX_IRI_CHARS = 8192
"""Longer IRIs are refused: nothing legitimate needs them, and each is stored per use."""
MAX_LITERAL_CHARS = 1 << 20
"""Longer literal values are cut, ending in `CUT_MARK`: pyoxigraph's N-Triples parser refuses
a line over 16 MB, which would fail the load of a project's whole graph (escaped and
UTF-8-encoded, a million characters stay under 4 MB)."""
CUT_MARK = " [cut by kg]"


def cut(value: str) -> str:
    """`value`, or its first `MAX_LITERAL_CHARS` characters and `CUT_MARK`.

    >>> cut("short")
    'short'
    >>> cut("x" * (MAX_LITERAL_CHARS + 1)).endswith(CUT_MARK)
    True
    """
    return value if len(value) <= MAX_LITERAL_CHARS else value[:MAX_LITERAL_CHARS] + CUT_MARK


def valid_iri(value: str) -> bool:
    """Whether `value` is an absolute IRI that `iri` may write as it is.

    >>> [valid_iri(v) for v in ("https://x.org/a%20b", "mailto:ann@x.org", "urn:uuid:1")]
    [True, True, True]
    >>> [valid_iri(v) for v in ("https://x.org/a b", "x> <p> <o", "relative/path", "http://x/%zz")]
    [False, False, False, False]
    """
    if len(value) > MAX_IRI_CHARS or _NOT_IN_IRI.search(value):
        return False
    try:
        ox.NamedNode(value)
    except ValueError:  # also UnicodeEncodeError, for lone surrogates
        return False
    return True


def iri(value: str) -> str:
    """An IRI term. The value must already be a valid IRI (see `path_segment`, `valid_iri`).

    >>> iri("https://kg.local/projects/a/b")
    '<https://kg.local/projects/a/b>'
    """
    return f"<{value}>"


def literal(value: str, datatype: str | None = None) -> str:
    """A literal term, escaped for N-Triples, its value `cut` to `MAX_LITERAL_CHARS`.

    >>> literal('say "hi"\\n')
    '"say \\\\"hi\\\\"\\\\n"'
    >>> literal("2020-01-01T00:00:00Z", "http://www.w3.org/2001/XMLSchema#dateTime")
    '"2020-01-01T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime>'
    """
    # Lone surrogates (from undecodable bytes) are not valid in RDF: replace them.
    text = cut(value).translate(_ECHAR)
    if not text.isascii():
        text = text.encode("utf-8", "replace").decode("utf-8")
    if datatype is None:
        return f'"{text}"'
    return f'"{text}"^^<{datatype}>'


_DOTS = {".": "%2E", "..": "%2E%2E"}


def path_segment(value: str | bytes) -> str:
    """Percent-encode a repository path (or any string) for use inside an IRI path.

    Slashes are kept so paths stay readable; `.` and `..` segments are encoded, so no client
    resolving the IRI (RFC 3986) walks out of the prefix it was minted under.

    >>> path_segment("data/my file é.csv")
    'data/my%20file%20%C3%A9.csv'
    >>> path_segment("#/../../team/secret")
    '%23/%2E%2E/%2E%2E/team/secret'
    """
    quoted = quote(value, safe="/-._~")
    if "." not in quoted:
        return quoted
    return "/".join(_DOTS.get(segment, segment) for segment in quoted.split("/"))


def triple(subject: str, predicate: str, obj: str) -> str:
    """One N-Triples line from already-written terms."""
    return f"{subject} {predicate} {obj} .\n"


TURTLE_PREFIXES: dict[str, str] = {
    **PREFIXES,
    "dcterms": "http://purl.org/dc/terms/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "renku": "https://swissdatasciencecenter.github.io/renku-ontology#",
}
"""The prefixes of what kg writes and reads, for formats that have prefixes."""

_PREFIXED = (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.N3)


def serialize_graph(triples: Iterable[ox.Triple], out: IO[bytes], rdf_format: ox.RdfFormat | None) -> None:
    """Write `triples` to `out` in `rdf_format`; Turtle, TriG and N3 with `TURTLE_PREFIXES`.

    >>> import io
    >>> from kg.vocab import RDF_TYPE
    >>> out = io.BytesIO()
    >>> run = ox.NamedNode("https://kg.local/projects/g/p/-/runs/1")
    >>> serialize_graph([ox.Triple(run, ox.NamedNode(RDF_TYPE), ox.NamedNode(PREFIXES["prov"] + "Activity"))],
    ...                 out, ox.RdfFormat.TURTLE)
    >>> out.getvalue().decode().splitlines()[-1]
    '<https://kg.local/projects/g/p/-/runs/1> a prov:Activity .'
    """
    prefixes = TURTLE_PREFIXES if rdf_format in _PREFIXED else None
    ox.serialize(triples, out, rdf_format, prefixes=prefixes)
