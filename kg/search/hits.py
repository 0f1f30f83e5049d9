"""One search's matches, narrowed to what filtering, facets, deduplication and sorting need.

This runs over every match of a query (8,000 for a common word in 100,000 documents), so
it works on the rows as SQLite returns them and does per-row work only where needed: only
people repeat (one document per project they appear in), so only they are deduplicated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from kg.search.base import SearchQuery

# a row: (rowid, id, kind, visibility, namespace, score, name, created, modified)
ROWID, ID, KIND, VISIBILITY, NAMESPACE, SCORE, NAME, CREATED, MODIFIED = range(9)
Row = tuple[Any, ...]
_FACETS = (("type", KIND), ("visibility", VISIBILITY), ("namespace", NAMESPACE))


def _filter(query: SearchQuery) -> Callable[[Row], bool] | None:
    """The type, visibility and namespace filters as one test (None: no such filter)."""
    kinds, visibilities, namespaces = set(query.kinds), set(query.visibilities), query.namespaces
    if not (kinds or visibilities or namespaces):
        return None

    def keeps(row: Row) -> bool:
        return (
            (not kinds or row[KIND] in kinds)
            and (not visibilities or row[VISIBILITY] in visibilities)
            and (
                not namespaces
                or any(row[NAMESPACE] == ns or row[NAMESPACE].startswith(ns + "/") for ns in namespaces)
            )
        )

    return keeps


def _kept(rows: list[Row], query: SearchQuery) -> list[Row]:
    """The rows passing the type, visibility and namespace filters."""
    keeps = _filter(query)
    return rows if keeps is None else [r for r in rows if keeps(r)]


def facets(rows: list[Row], query: SearchQuery) -> dict[str, dict[str, int]]:
    """Counts per type, visibility and namespace, each ignoring its own filter, counting a
    document once per value however many projects hold it."""
    out: dict[str, dict[str, int]] = {}
    unfiltered: tuple[list[Row], list[Row]] | None = None  # (documents, people) of all rows
    for facet, column in _FACETS:
        others = SearchQuery(
            kinds=[] if facet == "type" else query.kinds,
            visibilities=[] if facet == "visibility" else query.visibilities,
            namespaces=[] if facet == "namespace" else query.namespaces,
        )
        filtered = _filter(others) is not None
        if not filtered and unfiltered is not None:  # the same rows as a facet before
            documents, people = unfiltered
        else:
            kept = _kept(rows, others)
            people = [r for r in kept if r[KIND] == "person"]
            documents = [r for r in kept if r[KIND] != "person"] if people else kept
            if not filtered:
                unfiltered = (documents, people)
        counts = Counter(map(itemgetter(column), documents))
        counts.update(value for value, _ in {(r[column], r[ID]) for r in people})
        out[facet] = dict(counts)
    return out


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
