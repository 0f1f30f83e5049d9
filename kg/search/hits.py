"""One search's matches, narrowed to what filtering, facets, deduplication and sorting need.

This runs over every match of a query (8,000 for a common word in 100,000 documents), so
it works on the rows as SQLite returns them and does per-row work only where needed: only
people repeat (one document per project they appear in), so only they are deduplicated.
Every filter that is also a facet (type, visibility, namespace, creator) is applied here,
not in SQL, because each facet counts the matches its own filter would drop.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable
from itertools import chain
from operator import itemgetter
from typing import Any

from kg.search.base import SearchQuery

# a row: (rowid, id, kind, visibility, namespace, creators, score, name, created, modified),
# creators being the document's creator names joined by SEP ('' when it has none)
ROWID, ID, KIND, VISIBILITY, NAMESPACE, CREATORS, SCORE, NAME, CREATED, MODIFIED = range(10)
Row = tuple[Any, ...]
SEP = "\x1f"
"""Between the names of a row's creators (how the SQLite index stores a document's creators)."""
CREATORS_COUNTED = 50
"""The creator facet keeps this many of the largest counts: a project with 10,000 authors
must not put 10,000 names in every answer (the explorer asks on every keystroke)."""
_FACETS = (("type", KIND), ("visibility", VISIBILITY), ("namespace", NAMESPACE), ("creator", CREATORS))


def _filter(query: SearchQuery) -> Callable[[Row], bool] | None:
    """The type, visibility, namespace and creator filters as one test (None: no such filter).
    A creator matches one whole name of the document's, ignoring case (Unicode's, in Python:
    both indexes alike)."""
    kinds, visibilities, namespaces = set(query.kinds), set(query.visibilities), query.namespaces
    creators = {c.lower() for c in query.creators}
    if not (kinds or visibilities or namespaces or creators):
        return None

    def keeps(row: Row) -> bool:
        return (
            (not kinds or row[KIND] in kinds)
            and (not visibilities or row[VISIBILITY] in visibilities)
            and (
                not namespaces
                or any(row[NAMESPACE] == ns or row[NAMESPACE].startswith(ns + "/") for ns in namespaces)
            )
            # the names lower-cased in one call: a separator stays a separator
            and (not creators or not creators.isdisjoint(row[CREATORS].lower().split(SEP)))
        )

    return keeps


def _names(row: Row) -> list[str]:
    """The row's creator names (most rows have none: workflows, people)."""
    return row[CREATORS].split(SEP) if row[CREATORS] else []


def _kept(rows: list[Row], query: SearchQuery) -> list[Row]:
    """The rows passing the type, visibility, namespace and creator filters."""
    keeps = _filter(query)
    return rows if keeps is None else [r for r in rows if keeps(r)]


def facets(rows: list[Row], query: SearchQuery) -> dict[str, dict[str, int]]:
    """Counts per type, visibility, namespace and creator, each ignoring its own filter and
    honouring the others, counting a document once per value however many projects hold it
    (and once per creator however often its metadata names them); creators by count, then
    name, the largest `CREATORS_COUNTED` only."""
    out: dict[str, dict[str, int]] = {}
    # (documents, people) per set of filters: facets whose other filters are the same (all of
    # them when nothing is filtered) share one pass over the rows
    passes: dict[tuple[tuple[str, ...], ...], tuple[list[Row], list[Row]]] = {}
    for facet, column in _FACETS:
        others = SearchQuery(
            kinds=[] if facet == "type" else query.kinds,
            visibilities=[] if facet == "visibility" else query.visibilities,
            namespaces=[] if facet == "namespace" else query.namespaces,
            creators=[] if facet == "creator" else query.creators,
        )
        key = tuple(tuple(v) for v in (others.kinds, others.visibilities, others.namespaces, others.creators))
        if key not in passes:
            kept = _kept(rows, others)
            people = [r for r in kept if r[KIND] == "person"]
            passes[key] = ([r for r in kept if r[KIND] != "person"] if people else kept), people
        documents, people = passes[key]
        if column == CREATORS:
            out[facet] = _largest(_creator_counts(documents, people), CREATORS_COUNTED)
            continue
        counts = Counter(map(itemgetter(column), documents))
        counts.update(value for value, _ in {(r[column], r[ID]) for r in people})
        out[facet] = dict(counts)
    return out


def _creator_counts(documents: list[Row], people: list[Row]) -> Counter[str]:
    """Documents per creator name: each document once per name, each person once."""
    # one counting loop over every name (Counter's own, in C), not an update per row
    named = [r[CREATORS] for r in documents if r[CREATORS]]
    counts = Counter(
        chain.from_iterable(set(names.split(SEP)) if SEP in names else (names,) for names in named)
    )
    counts.update(name for name, _ in {(name, r[ID]) for r in people for name in _names(r)})
    counts.pop("", None)
    return counts


def _largest(counts: Counter[str], n: int) -> dict[str, int]:
    """The `n` largest counts, largest first, ties by name.

    >>> _largest(Counter({"b": 2, "a": 2, "c": 5, "d": 1}), 3)
    {'c': 5, 'a': 2, 'b': 2}
    """
    return dict(heapq.nsmallest(n, counts.items(), key=lambda item: (-item[1], item[0])))


def results(rows: list[Row], query: SearchQuery) -> list[Row]:
    """The rows passing every filter, one per document: the best score, the fields of the
    first indexed copy."""
    kept = _kept(rows, query)
    out = [r for r in kept if r[KIND] != "person"]
    people: dict[str, Row] = {}
    for row in kept:
        if row[KIND] != "person":
            continue
        seen = people.get(row[ID])
        if seen is None:
            people[row[ID]] = row
        else:
            first = row if row[ROWID] < seen[ROWID] else seen
            people[row[ID]] = (*first[:SCORE], max(row[SCORE], seen[SCORE]), *first[SCORE + 1 :])
    return out + list(people.values())


def ranked_page(rows: list[Row], query: SearchQuery, start: int, size: int) -> tuple[int, list[Row]]:
    """For rows in score order, best first (SQLite sorts them): how many documents pass every
    filter, and one page of them. A person's first row is their best-scored copy."""
    kept = _kept(rows, query)
    people = [r[ID] for r in kept if r[KIND] == "person"]
    total = len(kept) - len(people) + len(set(people))
    shown: list[Row] = []
    seen: set[str] = set()
    for row in kept:
        if row[KIND] == "person":
            if row[ID] in seen:
                continue
            seen.add(row[ID])
        shown.append(row)
        if len(shown) == start + size:
            break
    return total, shown[start:]


_KEYS = {"matchingScore": SCORE, "name": NAME, "dateModified": MODIFIED, "date": CREATED}


def page(rows: list[Row], sort: list[tuple[str, str]], start: int, size: int) -> list[Row]:
    """The rows of one page in the requested order, ties by document id."""
    ordered = sorted(rows, key=itemgetter(ID))
    for field, direction in reversed(sort):  # stable sorts, last key first
        column = _KEYS[field]
        ordered.sort(
            key=lambda r: r[column] or "" if column != SCORE else r[SCORE], reverse=direction == "desc"
        )
    return ordered[start : start + size]
