"""Writing N-Triples by hand, because building millions of term objects costs more than the parse.

Everything the extractors emit passes through these helpers, so escaping lives here only.
"""

from __future__ import annotations

from urllib.parse import quote

_ECHAR = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def iri(value: str) -> str:
    """An IRI term. The value must already be a valid IRI (see `path_segment`).

    >>> iri("https://kg.local/projects/a/b")
    '<https://kg.local/projects/a/b>'
    """
    return f"<{value}>"


def literal(value: str, datatype: str | None = None) -> str:
    """A literal term, escaped for N-Triples.

    >>> literal('say "hi"\\n')
    '"say \\\\"hi\\\\"\\\\n"'
    >>> literal("2020-01-01T00:00:00Z", "http://www.w3.org/2001/XMLSchema#dateTime")
    '"2020-01-01T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime>'
    """
    # Lone surrogates (from undecodable bytes) are not valid in RDF: replace them.
    text = value.translate(_ECHAR)
    if not text.isascii():
        text = text.encode("utf-8", "replace").decode("utf-8")
    if datatype is None:
        return f'"{text}"'
    return f'"{text}"^^<{datatype}>'


def path_segment(value: str | bytes) -> str:
    """Percent-encode a repository path (or any string) for use inside an IRI path.

    Slashes are kept so paths stay readable.

    >>> path_segment("data/my file é.csv")
    'data/my%20file%20%C3%A9.csv'
    """
    return quote(value, safe="/-._~")


def triple(subject: str, predicate: str, obj: str) -> str:
    """One N-Triples line from already-written terms."""
    return f"{subject} {predicate} {obj} .\n"
