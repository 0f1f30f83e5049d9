"""Content negotiation for SPARQL results (SPARQL 1.1 Protocol, section 2.1)."""

from __future__ import annotations

from dataclasses import dataclass

from kg.errors import InvalidInput

# (media type, aliases accepted in Accept, short names for ?format= / ?output=)
SOLUTIONS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("application/sparql-results+json", ("application/json",), ("json", "srj")),
    ("application/sparql-results+xml", ("application/xml", "text/xml"), ("xml", "srx")),
    ("text/csv", (), ("csv",)),
    ("text/tab-separated-values", (), ("tsv",)),
]
GRAPHS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("text/turtle", ("application/x-turtle",), ("turtle", "ttl")),
    ("application/n-triples", ("text/plain",), ("nt", "ntriples", "n-triples")),
    ("application/ld+json", ("application/json",), ("json-ld", "jsonld")),
    ("application/rdf+xml", ("application/xml", "text/xml"), ("rdf", "xml", "rdfxml")),
    ("application/n-quads", (), ("nq", "nquads")),
]


@dataclass(frozen=True)
class Preference:
    """A parsed Accept header plus an optional explicit `format` parameter."""

    ranges: tuple[tuple[str, float], ...]
    short: str | None = None


def parse_accept(accept: str, short: str | None = None) -> Preference:
    """Parse an Accept header into (media range, q) pairs, best first.

    >>> parse_accept("text/csv;q=0.5, application/sparql-results+json").ranges
    (('application/sparql-results+json', 1.0), ('text/csv', 0.5))
    """
    ranges = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranges.append((media.lower(), q))
    ranges.sort(key=lambda r: -r[1])
    return Preference(tuple(r for r in ranges if r[1] > 0), short.lower() if short else None)


def choose(pref: Preference, kind: str) -> str:
    """The media type to answer with, for `kind` "solutions" or "graph".

    >>> choose(parse_accept("*/*"), "graph")
    'text/turtle'
    >>> choose(parse_accept("application/json"), "solutions")
    'application/sparql-results+json'
    """
    table = SOLUTIONS if kind == "solutions" else GRAPHS
    if pref.short:
        for media, _, shorts in table:
            if pref.short in shorts or pref.short == media:
                return media
        raise InvalidInput(f"unsupported result format {pref.short!r}", field="format")
    if not pref.ranges:
        return table[0][0]
    for media_range, _ in pref.ranges:
        for media, aliases, _ in table:
            if media_range in (media, *aliases):
                return media
        if media_range in ("*/*", "application/*", "text/*"):
            return next(
                (m for m, _, _ in table if media_range == "*/*" or m.startswith(media_range[:-1])),
                table[0][0],
            )
    offered = ", ".join(m for m, _, _ in table)
    raise NotAcceptable(f"not acceptable; this result can be sent as: {offered}")


class NotAcceptable(InvalidInput):
    """None of the acceptable media types can carry this result."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="Accept")
