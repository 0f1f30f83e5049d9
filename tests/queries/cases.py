"""Data cases for the named queries of `queries/`: one folder per query, oxigraph's test suite
kept simple.

`tests/queries/<name>/` (the query's file name without extension), and each sub-folder of
it that holds a variant (another dataset for the same query), has:

- `data.trig`: the dataset the query runs on (named graphs, as kg stores them);
- `bindings.json` (optional): the values kg binds, by variable or placeholder name, each
  `{"iri": ...}`, `{"literal": ..., "datatype"|"language": ...}` or, for an update's block of
  triples, `{"ntriples": ...}`;
- `dataset.json` (optional): `{"default_graph": [...], "named_graphs": [...]}` when kg runs the
  query on a chosen dataset (a route reading one project's live graph) instead of the store's;
- the expected outcome: `expected.srj` (SELECT, ASK), `expected.nt` (CONSTRUCT) or `expected.trig`
  (an update: the whole dataset after it).

`load` puts a case's data into a store, `evaluate` runs its query there exactly as kg does
and `check` compares the outcome with the expected one. All three take a `CaseStore`:
pyoxigraph's `Store` here; running the same folders on a SPARQL server means passing an
adapter for it (loading through the Graph Store Protocol, binding values as kg's remote
store does, parsing answers with pyoxigraph).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox

from kg import queries
from kg.queries import Rendered

CASES_DIR = Path(__file__).resolve().parent
_ORDERED = re.compile(r"\bORDER\s+BY\b", re.IGNORECASE)
_COMMENT = re.compile(r"#[^\n]*")

Term = ox.NamedNode | ox.BlankNode | ox.Literal
DefaultGraphPart = ox.NamedNode | ox.BlankNode | ox.DefaultGraph
NamedGraph = ox.NamedNode | ox.BlankNode
Bound = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
"""What pyoxigraph's `substitutions` take (kg binds IRIs and literals only)."""


@dataclass(frozen=True)
class Case:
    """One query's folder, or a variant in a sub-folder of it."""

    name: str
    """The query's file name in `queries/`, with its extension."""
    folder: Path

    @property
    def id(self) -> str:
        """The query's name, and the variant's folder if it is one."""
        return self.name if self.folder.parent == CASES_DIR else f"{self.name}/{self.folder.name}"

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
    """A case for every query shipped in `queries/` (a missing folder is found by a test),
    and one for each sub-folder of its folder holding a variant of it."""
    found = []
    for name in queries.names():
        folder = CASES_DIR / name.rsplit(".", 1)[0]
        found.append(Case(name, folder))
        if folder.is_dir():
            found += [Case(name, sub) for sub in sorted(folder.iterdir()) if sub.is_dir()]
    return found


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


Outcome = ox.QuerySolutions | ox.QueryTriples | ox.QueryBoolean | Iterable[ox.Triple] | None
"""What a read answers (a remote store's adapter may give triples as any iterable); None
for an update."""


class CaseStore(Protocol):
    """What running a case needs of a store: pyoxigraph's `Store` has it; an adapter for a
    SPARQL server (parsing its answers with pyoxigraph) can too."""

    def load(self, input: bytes, format: ox.RdfFormat) -> None: ...

    def query(
        self,
        query: str,
        *,
        substitutions: dict[ox.Variable, Bound] | None,
        default_graph: list[DefaultGraphPart] | None,
        named_graphs: list[NamedGraph] | None,
    ) -> Outcome: ...

    def update(self, update: str) -> None: ...

    def __iter__(self) -> Iterator[ox.Quad]: ...


def load(store: CaseStore, case: Case) -> None:
    """Put the case's dataset into an empty store."""
    store.load(case.data(), ox.RdfFormat.TRIG)


def evaluate(store: CaseStore, case: Case, server: str = "") -> Outcome:
    """Run the case's query on `store` as kg does: a read with its values as substitutions
    (in `server`'s variant of it, if `queries/<server>/` has one), an update rendered from its
    placeholders (then the store holds the outcome)."""
    values = case.bindings()
    if case.is_update:
        store.update(queries.render(case.name, {k: rendered(v) for k, v in values.items()}))
        return None
    default_graph, named_graphs = case.dataset()
    substitutions: dict[ox.Variable, Bound] = {ox.Variable(k): term(v) for k, v in values.items()}
    return store.query(
        queries.load_variant(server, case.name) if server else queries.load(case.name),
        substitutions=substitutions or None,
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


def expected_answer(case: Case) -> ox.QuerySolutions | ox.QueryBoolean:
    """What `expected.srj` holds: rows (SELECT) or a boolean (ASK)."""
    path = str(case.folder / "expected.srj")
    return ox.parse_query_results(path=path, format=ox.QueryResultsFormat.JSON)


def expected_rows(case: Case) -> tuple[list[str], list[tuple[str | None, ...]]]:
    parsed = expected_answer(case)
    assert isinstance(parsed, ox.QuerySolutions), f"{case.id}: expected.srj holds no solutions"
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


def check(case: Case, outcome: Outcome, store: CaseStore) -> None:
    """Assert that `outcome` (and, for an update, `store` after it) is what the case expects."""
    if case.is_update:
        _same_quads(canonical(list(store)), expected_quads(case, "expected.trig", ox.RdfFormat.TRIG))
    elif isinstance(outcome, ox.QuerySolutions):
        names, found = rows(outcome)
        expected_names, expected = expected_rows(case)
        assert names == expected_names, f"{case.id}: variables {names}, expected {expected_names}"
        assert same_rows(found, expected, ordered=case.ordered()), (
            f"{case.id}:\nactual:   {found}\nexpected: {expected}"
        )
    elif isinstance(outcome, ox.QueryBoolean):
        answer = expected_answer(case)
        assert isinstance(answer, ox.QueryBoolean), f"{case.id}: expected.srj holds no boolean"
        assert bool(outcome) == bool(answer), case.id
    else:
        assert outcome is not None, case.id
        made = canonical(triples_as_quads(list(outcome)))
        _same_quads(made, expected_quads(case, "expected.nt", ox.RdfFormat.N_TRIPLES))


def _same_quads(actual: set[ox.Quad], expected: set[ox.Quad]) -> None:
    extra, missing = sorted(map(str, actual - expected)), sorted(map(str, expected - actual))
    assert actual == expected, f"\nunexpected: {extra}\nmissing:    {missing}"
