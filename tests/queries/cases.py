"""Data cases for the named queries of `queries/`: one folder per query, oxigraph's test suite
kept simple.

`tests/queries/<name>/` (the query's file name without extension) holds:

- `data.trig`: the dataset the query runs on (named graphs, as kg stores them);
- `bindings.json` (optional): the values kg binds, by variable or placeholder name, each
  `{"iri": ...}`, `{"literal": ..., "datatype"|"language": ...}` or, for an update's block of
  triples, `{"ntriples": ...}`;
- `dataset.json` (optional): `{"default_graph": [...], "named_graphs": [...]}` when kg runs the
  query on a chosen dataset (a route reading one project's live graph) instead of the store's;
- the expected outcome: `expected.srj` (SELECT), `expected.nt` (CONSTRUCT) or `expected.trig`
  (an update: the whole dataset after it).

`evaluate` runs one case on a store exactly as kg does; it is the one place that touches the
store, so running the same folders on another store means passing another store.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg import queries
from kg.queries import Rendered

CASES_DIR = Path(__file__).resolve().parent
_ORDERED = re.compile(r"\bORDER\s+BY\b", re.IGNORECASE)
_COMMENT = re.compile(r"#[^\n]*")

Term = ox.NamedNode | ox.BlankNode | ox.Literal
DefaultGraphPart = ox.NamedNode | ox.BlankNode | ox.DefaultGraph
NamedGraph = ox.NamedNode | ox.BlankNode


@dataclass(frozen=True)
class Case:
    """One query's folder."""

    name: str
    """The query's file name in `queries/`, with its extension."""
    folder: Path

    @property
    def is_update(self) -> bool:
        return self.name.endswith(".ru")

    def data(self) -> bytes:
        return (self.folder / "data.trig").read_bytes()

    def bindings(self) -> dict[str, dict[str, str]]:
        path = self.folder / "bindings.json"
        found: dict[str, dict[str, str]] = json.loads(path.read_text("utf-8")) if path.is_file() else {}
        return found

    def dataset(self) -> tuple[list[DefaultGraphPart] | None, list[NamedGraph] | None]:
        """The default and named graphs kg passes with the query (None: the store's own)."""
        path = self.folder / "dataset.json"
        given: dict[str, list[str]] = json.loads(path.read_text("utf-8")) if path.is_file() else {}
        default, named = given.get("default_graph"), given.get("named_graphs")
        default_graph: list[DefaultGraphPart] | None = None
        named_graphs: list[NamedGraph] | None = None
        if default is not None:
            default_graph = [ox.NamedNode(g) for g in default]
        if named is not None:
            named_graphs = [ox.NamedNode(g) for g in named]
        return default_graph, named_graphs

    def ordered(self) -> bool:
        """Whether the query fixes the order of its rows (then compared in order)."""
        return bool(_ORDERED.search(_COMMENT.sub("", queries.load(self.name))))


def cases() -> list[Case]:
    """A case for every query shipped in `queries/` (a missing folder is found by a test)."""
    return [Case(name, CASES_DIR / name.rsplit(".", 1)[0]) for name in queries.names()]


def term(value: dict[str, str]) -> ox.NamedNode | ox.Literal:
    """A bound value from its JSON form."""
    if "iri" in value:
        return ox.NamedNode(value["iri"])
    if "language" in value:
        return ox.Literal(value["literal"], language=value["language"])
    if "datatype" in value:
        return ox.Literal(value["literal"], datatype=ox.NamedNode(value["datatype"]))
    return ox.Literal(value["literal"])


def rendered(value: dict[str, str]) -> Rendered:
    """A placeholder's value for an update, escaped by pyoxigraph as `kg.rdf` would."""
    if "ntriples" in value:
        triples = ox.parse(value["ntriples"].encode(), ox.RdfFormat.N_TRIPLES)
        return Rendered(bytes(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode())
    return Rendered(str(term(value)))


def load(store: ox.Store, case: Case) -> None:
    """Put the case's dataset into an empty store."""
    store.load(case.data(), ox.RdfFormat.TRIG)


def evaluate(store: ox.Store, case: Case) -> ox.QuerySolutions | ox.QueryTriples | ox.QueryBoolean | None:
    """Run the case's query on `store` as kg does: a read with its values as substitutions,
    an update rendered from its placeholders (then the store holds the outcome)."""
    values = case.bindings()
    if case.is_update:
        store.update(queries.render(case.name, {k: rendered(v) for k, v in values.items()}))
        return None
    default_graph, named_graphs = case.dataset()
    return store.query(
        queries.load(case.name),
        substitutions={ox.Variable(k): term(v) for k, v in values.items()} or None,
        default_graph=default_graph,
        named_graphs=named_graphs,
    )


# Comparing outcomes: results as multisets of rows (in order under ORDER BY), graphs and
# datasets by isomorphism, never by serialised text.


_SET_SEPARATOR = "\x1f"
"""What kg's GROUP_CONCATs join values with; kg reads them back as sets."""


def term_key(value: Term | None) -> str | None:
    # Blank node labels are the store's own: any blank node matches any other.
    if value is None:
        return None
    if isinstance(value, ox.BlankNode):
        return "_:"
    if isinstance(value, ox.Literal) and _SET_SEPARATOR in value.value:
        # GROUP_CONCAT's order is the store's choice (SPARQL leaves it open)
        parts = sorted(value.value.split(_SET_SEPARATOR))
        return str(ox.Literal(_SET_SEPARATOR.join(parts), datatype=value.datatype))
    return str(value)


def rows(solutions: ox.QuerySolutions) -> tuple[list[str], list[tuple[str | None, ...]]]:
    """Variables and rows, each row the N-Triples form of its values (None: unbound)."""
    names = [v.value for v in solutions.variables]
    return names, [tuple(term_key(s[n]) for n in names) for s in solutions]


def expected_rows(case: Case) -> tuple[list[str], list[tuple[str | None, ...]]]:
    parsed = ox.parse_query_results(path=str(case.folder / "expected.srj"), format=ox.QueryResultsFormat.JSON)
    assert isinstance(parsed, ox.QuerySolutions), f"{case.name}: expected.srj holds no solutions"
    return rows(parsed)


def same_rows(
    actual: list[tuple[str | None, ...]], expected: list[tuple[str | None, ...]], *, ordered: bool
) -> bool:
    return actual == expected if ordered else Counter(actual) == Counter(expected)


def canonical(quads: list[ox.Quad]) -> set[ox.Quad]:
    """The quads with blank nodes relabelled canonically, so isomorphic datasets are equal."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


def triples_as_quads(triples: list[ox.Triple]) -> list[ox.Quad]:
    return [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples]


def expected_quads(case: Case, file: str, rdf_format: ox.RdfFormat) -> set[ox.Quad]:
    parsed: list[Any] = list(ox.parse(path=str(case.folder / file), format=rdf_format))
    if rdf_format == ox.RdfFormat.N_TRIPLES:
        parsed = triples_as_quads(parsed)
    return canonical(parsed)
