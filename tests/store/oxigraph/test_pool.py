"""Query processes: timeouts really stop work, crashes cost one query, not the service."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kg.config import Settings
from kg.errors import QueryCrashed, QuerySyntaxError, QueryTimeout
from kg.store.oxigraph import QueryPool
from kg.store.reading import QueryRequest

FIXTURES = Path(__file__).parents[2] / "fixtures" / "sparql"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
# 2000^3 rows: minutes of work for the engine.
ENDLESS = (
    "SELECT (COUNT(*) AS ?n) WHERE { "
    + " ".join(f"VALUES ?{v} {{ {' '.join(str(i) for i in range(2000))} }}" for v in "abc")
    + " }"
)


@pytest.fixture
def pool(settings: Settings, published: dict[str, str]) -> Iterator[QueryPool]:
    p = QueryPool(settings.store_path, settings.base_iri, size=2, timeout=1.5, max_bytes=10**6)
    yield p
    p.close()


def count(pool: QueryPool) -> int:
    answer = pool.answer(QueryRequest(query=COUNT, accept="application/json"))
    return int(json.loads(answer.body)["results"]["bindings"][0]["n"]["value"])


def test_a_query_is_answered_in_a_query_process(pool: QueryPool) -> None:
    assert count(pool) > 0


def test_a_timeout_kills_the_query_and_the_pool_recovers(pool: QueryPool) -> None:
    before = {w.process.pid for w in pool._all}
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match=r"1\.5s"):
        pool.answer(QueryRequest(query=ENDLESS))
    assert time.monotonic() - started < 5
    after = {w.process.pid for w in pool._all}
    assert len(after) == 2
    assert before != after  # the busy process was killed and replaced
    assert count(pool) > 0


def test_a_query_that_aborts_the_engine_costs_one_error(pool: QueryPool) -> None:
    # pyoxigraph 0.5.13 panics (abort, SIGABRT) sorting these mixed literal types.
    crash = (FIXTURES / "order_by_mixed_types.rq").read_text()
    with pytest.raises(QueryCrashed):
        pool.answer(QueryRequest(query=crash))
    assert count(pool) > 0
    assert count(pool) > 0


def test_errors_from_the_engine_are_typed(pool: QueryPool) -> None:
    with pytest.raises(QuerySyntaxError, match="error at"):
        pool.answer(QueryRequest(query="SELECT WHERE"))


def test_queries_run_in_parallel(pool: QueryPool) -> None:
    with ThreadPoolExecutor(4) as executor:
        results = list(executor.map(lambda _: count(pool), range(20)))
    assert len(set(results)) == 1
