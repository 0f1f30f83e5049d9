"""Every ingest is bounded, and one bad file costs one file: a repository holding every bomb
of `tests/fixtures/bombs.py` (each beside a good file) is pushed to a real `kg serve` and
ingested in seconds and well under 500 MB, with a warning per bomb, the good files ingested,
and no document speaking for another project."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kg.extract.renku_db import oid_path
from kg.pipeline.liveness import read_beat
from tests.fixtures.bombs import OTHER_PROJECT, SCENARIOS, VISIBILITY, crates_over_a_wide_tree, wide_commit
from tests.fixtures.githttp import GitHttpServer
from tests.fixtures.gitrepo import make_repo
from tests.fixtures.processes import peak_memory
from tests.fixtures.servers import KgServer
from tests.security.conftest import push_body, send_hook, settled, sparql_count, wait_published

MB = 1024 * 1024
BOMBS = {  # file → what its warning must name
    ".renku/metadata/ab/cd/" + "ab" * 32: "more than 67108864 bytes",
    oid_path("/datasets/bomb"): "more than 2000000 values",
    ".datalad/runinfo/bomb": "more than 67108864 bytes",
    "dvc.lock": "expands to more than 2000000 values",
    "dvc.yaml": "1000",
    "prov/bomb.rdf": "amplification",
    "prov/deep.jsonld": "nested deeper than 128",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("bombs")
    served = root / "served"
    served.mkdir()
    plain = GitHttpServer(served)
    other = make_repo(root / "other")
    other.commit({"secret.txt": "private\n"}, "private work")
    bombs = make_repo(root / "bombs")
    bombs.commit({"README.md": "history before the bombs\n"}, "start")
    for scenario in SCENARIOS.values():
        scenario(bombs)
    kg = KgServer(root / "kg", {"KG_GIT_ALLOWED_ORIGINS": plain.origin, "KG_BASE_IRI": "https://kg.test/"})
    # the project the documents try to speak for: private
    url = plain.publish(other.path, "other/p.git")
    assert send_hook(kg, push_body(8, "other/p", url, other.head(), visibility=0), 8).status_code == 202
    wait_published(kg, "other/p")
    yield {"kg": kg, "plain": plain, "bombs": bombs}
    kg.stop()
    plain.stop()


def test_every_bomb_costs_one_warning_and_little_time_or_memory(world: dict[str, Any]) -> None:
    kg: KgServer = world["kg"]
    url = world["plain"].publish(world["bombs"].path, "evil/bombs.git")
    worker = read_beat(kg.data_dir)
    with peak_memory(kg.process.pid) as peak:
        started = time.monotonic()
        assert send_hook(kg, push_body(9, "evil/bombs", url, world["bombs"].head()), 9).status_code == 202
        status = settled(kg, 9)
        took = time.monotonic() - started
    assert status["details"]["status"] == "success", status
    assert took < 30
    assert peak.process < 500 * MB and peak.growth < 500 * MB, peak
    warnings = status["warnings"]
    for path, bound in BOMBS.items():
        named = [w for w in warnings if path in w]
        assert named and any(bound in w for w in named), (path, warnings)
    after = read_beat(kg.data_dir)
    assert worker is not None and after is not None and after.pid == worker.pid  # the worker survived
    for warning in warnings:
        assert str(kg.data_dir) not in warning and "/tmp/" not in warning


def test_the_good_files_beside_the_bombs_are_ingested(world: dict[str, Any]) -> None:
    kg: KgServer = world["kg"]
    settled(kg, 9)
    prefix = "PREFIX kg: <https://w3id.org/kg/ontology#> PREFIX prov: <http://www.w3.org/ns/prov#> "
    good = [
        "<urn:x:good-run> a kg:Run",
        "?r kg:tool 'dvc' ; prov:qualifiedAssociation/prov:hadPlan/<http://schema.org/name> 'good'",
        "?r kg:tool 'datalad' ; prov:qualifiedAssociation/prov:hadPlan/kg:command 'python good.py'",
        "?c a kg:Commit ; kg:message 'start'",
    ]
    for pattern in good:
        assert sparql_count(kg, prefix + f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}") >= 1, pattern


def test_no_document_speaks_for_another_project(world: dict[str, Any]) -> None:
    kg: KgServer = world["kg"]
    settled(kg, 9)
    # what the PROV file and the RO-Crate tried to say, in the public graph anyone reads
    said = f"SELECT (COUNT(*) AS ?n) WHERE {{ <{OTHER_PROJECT}> ?p ?o }}"
    assert sparql_count(kg, said) == 0
    assert (
        sparql_count(kg, f'SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{VISIBILITY}> "public" }}') == 1
    )  # evil/bombs
    assert (
        sparql_count(
            kg,
            "SELECT (COUNT(*) AS ?n) WHERE { ?c a <https://w3id.org/kg/ontology#Commit> ;"
            " <https://w3id.org/kg/ontology#message> 'private work' }",
        )
        == 0
    )
    record = httpx.get(f"{kg.url}/knowledge-graph/projects/other/p", timeout=30)
    assert record.status_code == 404  # still private, to anonymous callers
    assert Path(kg.log).read_text().count("Traceback") == 0


@pytest.mark.parametrize(
    ("name", "build", "says"),
    [
        # a push of a few KB whose commit holds half a million paths (one shared subtree)
        ("wide", lambda repo: wide_commit(repo, 500, 1000), "more than 100000 files"),
        # 150 commits changing only an RO-Crate, over a tree of 200,000 paths
        ("crates", lambda repo: crates_over_a_wide_tree(repo, 200, 1000, 150), "more than 100000 files"),
    ],
)
def test_a_small_push_of_a_huge_tree_costs_seconds(
    world: dict[str, Any], tmp_path: Path, name: str, build: Any, says: str
) -> None:
    kg: KgServer = world["kg"]
    repo = make_repo(tmp_path / name)
    repo.commit({"README.md": "before\n"}, "start")
    build(repo)
    url = world["plain"].publish(repo.path, f"evil/{name}.git")
    pid = {"wide": 10, "crates": 11}[name]
    with peak_memory(kg.process.pid) as peak:
        started = time.monotonic()
        assert send_hook(kg, push_body(pid, f"evil/{name}", url, repo.head()), pid).status_code == 202
        status = settled(kg, pid)
        took = time.monotonic() - started
    assert status["details"]["status"] == "success", status
    assert any(says in w for w in status["warnings"]), status["warnings"]
    assert took < 30
    assert peak.process < 500 * MB, peak
