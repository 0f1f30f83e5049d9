"""Every named query of `queries/` run on its own small dataset, checked against the expected
outcome written beside it (see `tests.queries.cases`)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg import queries
from tests.queries.cases import (
    CASES_DIR,
    Case,
    CaseStore,
    canonical,
    cases,
    check,
    evaluate,
    expected_answer,
    expected_quads,
    expected_rows,
    load,
    same_rows,
    term_key,
)


def test_every_query_has_a_case() -> None:
    missing = [c.id for c in cases() if not (c.folder / "data.trig").is_file()]
    assert missing == [], f"without tests/queries/<name>/data.trig (see tests/queries/cases.py): {missing}"


def test_every_case_has_a_query() -> None:
    known = {c.folder.name for c in cases() if c.folder.parent == CASES_DIR}
    folders = {p.name for p in CASES_DIR.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert folders - known == set(), "case folders for queries that no longer exist"


def test_every_case_names_its_outcome() -> None:
    outcomes = {"expected.srj", "expected.nt", "expected.trig"}
    for case in cases():
        found = outcomes & {p.name for p in case.folder.iterdir()} if case.folder.is_dir() else set()
        assert len(found) == 1, f"{case.id}: one of {sorted(outcomes)} expected, found {sorted(found)}"


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.id)
def test_query_on_its_data(case: Case) -> None:
    store = ox.Store()
    load(store, case)
    check(case, evaluate(store, case), store)


def test_pyoxigraph_is_a_case_store() -> None:
    # what a remote store's adapter must offer is what pyoxigraph's Store offers
    store: CaseStore = ox.Store()
    assert list(store) == []


FINDS_NOTHING = {"graph_exists.rq/unused", "commit_exists.rq/other_project"}
"""Cases whose point is that the query finds nothing (a generation no load has used, a
commit of another project)."""


def test_every_case_expects_something() -> None:
    # an empty expectation matches a query that finds nothing; an update must change the data
    for case in cases():
        if case.id in FINDS_NOTHING:
            assert not expected_rows(case)[1], case.id
            continue
        if case.is_update:
            before = canonical(list(ox.parse(case.data(), ox.RdfFormat.TRIG)))
            assert expected_quads(case, "expected.trig", ox.RdfFormat.TRIG) != before, case.id
        elif (case.folder / "expected.nt").is_file():
            assert expected_quads(case, "expected.nt", ox.RdfFormat.N_TRIPLES), case.id
        elif isinstance(expected_answer(case), ox.QuerySolutions):
            assert expected_rows(case)[1], case.id


def test_rows_compare_as_multisets_unless_ordered() -> None:
    # the comparison itself must be able to fail: a lost duplicate or a swapped order
    assert not same_rows([("a",), ("a",)], [("a",)], ordered=False)
    assert same_rows([("a",), ("b",)], [("b",), ("a",)], ordered=False)
    assert not same_rows([("a",), ("b",)], [("b",), ("a",)], ordered=True)


def test_group_concat_compares_as_a_set() -> None:
    # kg joins GROUP_CONCAT values with U+001F and reads them back as sets; the order is
    # the store's choice, so "b<US>a" matches "a<US>b", but not "a" alone
    joined = ox.Literal("b\x1fa")
    assert term_key(joined) == term_key(ox.Literal("a\x1fb"))
    assert term_key(joined) != term_key(ox.Literal("a"))
    assert term_key(ox.BlankNode("x")) == term_key(ox.BlankNode("y"))


def test_ordered_only_when_the_query_orders() -> None:
    ordered = {c.name for c in cases() if c.ordered()}
    assert "projects.rq" in ordered
    assert "index_persons.rq" not in ordered
    assert all("ORDER BY" in queries.load(name) for name in ordered)


def test_a_server_without_a_variant_runs_the_standard_query() -> None:
    # queries/<server>/ holds only the queries a server needs its own text of
    case = next(c for c in cases() if c.id == "projects.rq")
    store = ox.Store()
    load(store, case)
    check(case, evaluate(store, case, server="fuseki"), store)
