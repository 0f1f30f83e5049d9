"""Hostile repository content costs a warning for that file, never the project or the worker.

Each scenario of `tests/fixtures/bombs.py` puts one bomb beside a good file in one commit,
after plain history, and is extracted in a child process (a crash or a runaway fails the
test, not the run): the warning names the file and the bound, the rest is ingested, and
time and peak memory stay far below what the bomb would take.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kg.extract import ExtractWarning
from kg.extract.renku_db import oid_path
from kg.rdf import CUT_MARK, MAX_LITERAL_CHARS
from tests.extract.helpers import PREFIXES, PROJECT, Measured, extract_in_child, rows
from tests.fixtures.bombs import INJECTED_ID, OTHER_PROJECT, PATHOLOGICAL_GLOB, build
from tests.fixtures.gitrepo import GitRepo

SECONDS, PEAK_MB = 30, 500  # generous: the bombs take minutes and gigabytes unbounded


def ingest(name: str, git_repo: Callable[[str], GitRepo]) -> Measured:
    """Build scenario `name` and extract it; check it ended well, in time and memory."""
    repo = build(name, git_repo(name))
    done = extract_in_child(repo.path)
    assert done.returncode == 0, done.stderr
    assert done.seconds < SECONDS
    assert done.peak_mb < PEAK_MB
    store = done.store()  # every line is valid N-Triples, as the bulk load needs
    assert rows(store, "SELECT ?c WHERE { ?c a kg:Commit ; kg:message 'start' }"), "history before"
    return done


def ask(done: Measured, query: str) -> bool:
    answer = done.store().query(PREFIXES + "ASK { " + query + " }")
    return bool(answer)


def warned(done: Measured, source: str, path: str | None, bound: str) -> ExtractWarning:
    """The one warning about `path`, which must name `bound`."""
    found = [w for w in done.warnings if w.source == source and w.path == path]
    assert len(found) == 1, done.warnings
    assert bound in found[0].reason
    return found[0]


GOOD_LOCK_RUN = "?r kg:tool 'dvc' ; prov:qualifiedAssociation/prov:hadPlan/schema:name 'good'"
GOOD_TTL_RUN = "<urn:x:good-run> a kg:Run ; kg:tool 'prov'"


@pytest.mark.parametrize(
    ("name", "source", "path", "bound", "rest"),
    [
        pytest.param(
            "renku_zstd",
            "renku",
            ".renku/metadata/ab/cd/" + "ab" * 32,
            "more than 67108864 bytes",
            f"<{PROJECT}/-/renku/datasets/good> a schema:Dataset",
            id="zstd-header-claims-4GiB",
        ),
        pytest.param(
            "renku_references",
            "renku",
            oid_path("/datasets/bomb"),
            "more than 2000000 values",
            f"<{PROJECT}/-/renku/datasets/good> a schema:Dataset"
            f" FILTER NOT EXISTS {{ <{PROJECT}/-/renku/datasets/bomb> ?p ?o }}",
            id="renku-back-references-2**60",
        ),
        pytest.param(
            "datalad_xz",
            "datalad",
            ".datalad/runinfo/bomb",
            "more than 67108864 bytes",
            "?r kg:tool 'datalad' ; prov:qualifiedAssociation/prov:hadPlan/kg:command 'python good.py'",
            id="xz-sidecar-4GiB",
        ),
        pytest.param(
            "dvc_laughs",
            "dvc",
            "dvc.lock",
            "more than 2000000 values",
            GOOD_LOCK_RUN,
            id="yaml-billion-laughs",
        ),
        pytest.param(
            "dvc_sweep",
            "dvc",
            "dvc.yaml",
            "more than 1000",
            GOOD_LOCK_RUN + " . ?plain a prov:Plan ; schema:name 'plain'",
            id="dvc-matrix-10**10",
        ),
        pytest.param(
            "prov_xml_laughs",
            "prov",
            "prov/bomb.rdf",
            "amplification",
            GOOD_TTL_RUN,
            id="rdfxml-billion-laughs",
        ),
        pytest.param(
            "prov_deep_jsonld",
            "prov",
            "prov/deep.jsonld",
            "nested deeper than 128",
            GOOD_TTL_RUN,
            id="jsonld-10000-deep",
        ),
    ],
)
def test_a_bomb_costs_a_warning_for_its_file(
    name: str, source: str, path: str, bound: str, rest: str, git_repo: Callable[[str], GitRepo]
) -> None:
    done = ingest(name, git_repo)
    warned(done, source, path, bound)
    assert ask(done, rest), "the good file of the same commit"


def test_a_pathological_glob_is_matched_in_linear_time(git_repo: Callable[[str], GitRepo]) -> None:
    done = ingest("datalad_glob", git_repo)
    assert done.warnings == []
    assert done.seconds < 10  # a backtracking regex never finishes
    used = rows(done.store(), "SELECT ?path WHERE { ?r kg:tool 'datalad' ; prov:used/prov:atLocation ?path }")
    # the other glob resolves; the pathological one matches nothing and stays as declared
    assert {r["path"] for r in used} == {"in/a.csv", PATHOLOGICAL_GLOB}


def test_an_input_outside_the_repository_is_skipped_and_git_keeps_reading(
    git_repo: Callable[[str], GitRepo],
) -> None:
    done = ingest("datalad_outside", git_repo)
    run_commit = rows(
        done.store(), "SELECT ?sha WHERE { ?c kg:sha ?sha ; kg:message ?m FILTER(STRSTARTS(?m, '[DATALAD')) }"
    )
    (warning,) = done.warnings
    assert (warning.source, warning.commit, warning.path) == ("datalad", run_commit[0]["sha"], None)
    assert "outside the repository" in warning.reason and "../../etc/hostname" in warning.reason
    # read after the bad path: the git file version itself, with its blob
    assert ask(done, "?r kg:tool 'datalad' ; prov:used ?e . ?e prov:atLocation 'in/a.csv' ; kg:blob ?b")
    assert not ask(done, "?e prov:atLocation ?p FILTER(CONTAINS(?p, 'etc/hostname'))")


def test_prov_documents_cannot_set_another_projects_visibility(git_repo: Callable[[str], GitRepo]) -> None:
    done = ingest("prov_visibility", git_repo)
    warned(done, "prov", "prov/evil.ttl", "record vocabulary dropped")
    assert "visibility" in done.warnings[0].reason
    assert not ask(done, "?s kg:visibility ?v")
    assert ask(done, GOOD_TTL_RUN), "the rest of the same file"
    assert ask(done, "<urn:x:other-run> a kg:Run"), "the other file"


def test_rocrate_ids_can_neither_break_nor_inject_n_triples(git_repo: Callable[[str], GitRepo]) -> None:
    done = ingest("rocrate_ids", git_repo)  # loading the output would fail on a bad line
    reasons = sorted(w.reason for w in done.warnings)
    assert all(w.path == "ro-crate-metadata.json" for w in done.warnings)
    assert reasons[0].startswith(
        "IRI under kg's base moved into the project: 'https://kg.test/projects/other/p/-/x'"
    )
    # the injected instrument first, then the id with a space, twice
    assert reasons[1] == f"invalid IRI dropped: {INJECTED_ID[:57] + '...'!r} (3 times)"
    assert not ask(done, "?s kg:visibility ?v")
    assert not ask(
        done,
        f"?s ?p ?o FILTER(STRSTARTS(STR(?s), '{OTHER_PROJECT}') || STRSTARTS(STR(?o), '{OTHER_PROJECT}'))",
    )
    run = rows(
        done.store(),
        """SELECT ?in ?out ?who WHERE { ?r kg:tool 'rocrate' ; rdfs:label 'good run' ;
             prov:used/prov:atLocation ?in ; prov:wasAssociatedWith ?who . ?o prov:wasGeneratedBy ?r ; prov:atLocation ?out }""",
    )
    assert run == [{"in": "in.txt", "out": "out.txt", "who": f"{PROJECT}/-/foreign/projects/other/p/-/x"}]


def test_the_measure_itself_sees_a_runaway(tmp_path: Path, git_repo: Callable[[str], GitRepo]) -> None:
    """The child's limits work: a kg that loops is stopped at the time limit and reported."""
    fake = tmp_path / "fake"
    (fake / "kg" / "extract").mkdir(parents=True)
    for module in ("__init__.py", "extract/__init__.py", "iri.py", "extract/tools.py", "extract/walk.py"):
        (fake / "kg" / module).write_text("")
    (fake / "kg" / "extract" / "context.py").write_text("while True:\n    pass\n")
    repo = git_repo("plain")
    repo.commit({"a.txt": "a"}, "start")
    done = extract_in_child(repo.path, kg_root=fake, seconds=2)
    assert done.returncode is None and 2 <= done.seconds < 10


def test_alike_blank_nodes_are_named_without_a_permutation_search(git_repo: Callable[[str], GitRepo]) -> None:
    done = ingest("prov_canon", git_repo)
    assert done.warnings == []
    links = rows(
        done.store(),
        f"SELECT ?a ?b WHERE {{ ?a prov:wasInformedBy ?b FILTER(STRSTARTS(STR(?a), '{PROJECT}/-/prov/genid/')) }}",
    )
    assert len(links) == 90 and len({r["a"] for r in links}) == 10
    assert ask(done, GOOD_TTL_RUN)


def test_a_commit_message_is_cut_at_the_field_bound(git_repo: Callable[[str], GitRepo]) -> None:
    done = ingest("git_message", git_repo)
    (message,) = rows(done.store(), "SELECT ?m WHERE { ?c kg:message ?m FILTER(STRSTARTS(?m, 'run ')) }")
    # cut to 4 MB when read from git, then to a million characters when written
    assert len(message["m"]) == MAX_LITERAL_CHARS + len(CUT_MARK) and message["m"].endswith(CUT_MARK)
    assert ask(done, GOOD_LOCK_RUN), "the commit's files"
