"""What the PostgreSQL index feeds to full-text search: words, their weights, the query.

Words are cut out in Python (runs of letters and digits, as SQLite's unicode61 does), so
PostgreSQL's parser only ever sees plain words separated by spaces: a path, an e-mail
address or a version number is split into words the same way in a document and in a query.
The query is never parsed as tsquery syntax: each word becomes a quoted prefix lexeme.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kg.search.base import Document

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_FIELD_CHARS = 50_000
"""Words indexed per weight class of one document: a tsvector holds at most 1 MB, so the
words of a description longer than this are not searchable (SQLite has no such limit)."""
MAX_WORD_BYTES = 2047
"""PostgreSQL skips longer words (with a notice): kg leaves them out of documents, and a
search for one finds nothing, as it would find nothing in the index."""
MAX_QUERY_CHARS = 16_384
"""Text of a search looked at: more than any URL carries (the rest only narrows the hits)."""

RANK_WEIGHTS = "'{0.1, 0.3, 0.6, 1.0}'"
"""`ts_rank` weights of classes D, C, B, A: as SQLite's BM25 columns, a name counts most
(A), slug and keywords next (B), creators and description (C), file paths least (D)."""


def words(values: Iterable[str], limit: int = MAX_FIELD_CHARS) -> str:
    """The words of `values`, space-separated, at most `limit` characters of them.

    >>> words(["data/raw_stations.csv", "Zürich: 3.5°C", "\\x00it's"])
    'data raw stations csv Zürich 3 5 C it s'
    """
    found: list[str] = []
    size = 0
    for value in values:
        for word in _WORD.findall(value):
            if too_long(word):
                continue
            size += len(word) + 1
            if size > limit:
                return " ".join(found)
            found.append(word)
    return " ".join(found)


def too_long(word: str) -> bool:
    """Whether PostgreSQL would skip the word.

    >>> too_long("ä" * 1023), too_long("ä" * 1024)
    (False, True)
    """
    return len(word) > MAX_WORD_BYTES // 4 and len(word.encode()) > MAX_WORD_BYTES


def unmatchable(text: str) -> bool:
    """Whether a search text has a word no document can hold (too long to index)."""
    return any(too_long(word) for word in _WORD.findall(text))


def weighted(doc: Document) -> tuple[str, str, str, str]:
    """The document's words per weight class A, B, C, D."""
    return (
        words([doc.name]),
        words([doc.slug, *doc.keywords]),
        words([*doc.creators, doc.description]),
        words(doc.paths),
    )


def vector(unaccent: str) -> str:
    """SQL of a tsvector from four parameters (`weighted`), accents removed."""
    return " || ".join(f"setweight(to_tsvector('simple', {unaccent}(%s)), '{weight}')" for weight in "ABCD")


def query(unaccent: str, parameter: str) -> str:
    """SQL of a tsquery from a parameter holding `words(...)` of the search text: every
    word, accents removed and lower-cased as documents are, as a quoted prefix (`'w':*`),
    all of them required. NULL when no word is left."""
    # tsquery quoting: a quote is doubled, a backslash escaped (unaccent can make quotes:
    # it maps U+02BC, a letter, to an apostrophe)
    lexeme = r"'''' || replace(replace(w, '\', '\\'), '''', '''''') || ''':*'"
    return (
        f"(SELECT string_agg({lexeme}, ' & ')::tsquery FROM"
        f" unnest(tsvector_to_array(to_tsvector('simple', {unaccent}({parameter})))) AS w)"
    )
