"""Every run is recorded in the commit that brought it, also when its document is edited in
place; a run whose record only changed its ids or its folder is the same run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from tests.extract.helpers import extract, rows
from tests.fixtures.gitrepo import GitRepo

PROV_DOC = """\
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix ex: <https://example.org/> .
ex:clean a prov:Activity ; prov:used ex:raw .
ex:cleaned a prov:Entity ; prov:wasGeneratedBy ex:clean .
"""
PROV_MORE = (
    PROV_DOC
    + """\
ex:plot a prov:Activity ; prov:used ex:cleaned .
ex:figure a prov:Entity ; prov:wasGeneratedBy ex:plot .
"""
)


def commits_of(store: object, tool: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for row in rows(
        store,  # type: ignore[arg-type]
        f'SELECT ?run ?sha WHERE {{ ?run a kg:Run ; kg:tool "{tool}" . OPTIONAL {{ ?run kg:inCommit/kg:sha ?sha }} }}',
    ):
        found.setdefault(row["run"], set()).update({row["sha"]} if "sha" in row else set())
    return found


def test_an_edited_prov_document_records_its_new_activities(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("prov-edit")
    first = repo.commit({"prov/run.ttl": PROV_DOC}, "the cleaning run")
    second = repo.commit({"prov/run.ttl": PROV_MORE}, "the plot run, added to the same file")
    store, warnings = extract(repo.path)
    assert warnings == []
    found = commits_of(store, "prov")
    assert found == {"https://example.org/clean": {first}, "https://example.org/plot": {second}}


def _crate(action_id: str, *, start: str = "2024-01-01T10:00:00Z") -> str:
    graph = [
        {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"}},
        {"@id": "./", "@type": "Dataset", "name": "fig", "hasPart": [{"@id": "in.csv"}, {"@id": "out.png"}]},
        {"@id": "in.csv", "@type": "File", "sha1": "aa"},
        {"@id": "out.png", "@type": "File"},
        # tools mint crate-local ids anew each time they write the crate (cwltool: uuids)
        {"@id": "#plot" + action_id, "@type": "SoftwareApplication", "name": "plot.py"},
        {"@id": "#p-" + action_id, "@type": "PropertyValue", "name": "dpi", "value": "300"},
        {"@id": "#scratch" + action_id, "@type": "File", "name": "scratch"},
        {"@id": "ftp://example.org/stations.csv", "@type": "File"},
        {
            "@id": action_id,
            "@type": "CreateAction",
            "instrument": {"@id": "#plot" + action_id},
            "object": [
                {"@id": "in.csv"},
                {"@id": "#p-" + action_id},
                {"@id": "#scratch" + action_id},
                {"@id": "ftp://example.org/stations.csv"},
            ],
            "result": [{"@id": "out.png"}],
            "startTime": start,
        },
    ]
    return json.dumps({"@context": "https://w3id.org/ro/crate/1.1/context", "@graph": graph}, indent=1)


def test_regenerated_action_ids_and_a_moved_crate_make_no_new_runs(
    git_repo: Callable[[str], GitRepo],
) -> None:
    repo = git_repo("crate-identity")
    first = repo.commit({"a/ro-crate-metadata.json": _crate("#run-1111")}, "crate")
    repo.commit({"a/ro-crate-metadata.json": _crate("#run-2222")}, "ids regenerated")
    repo.commit(renames={"a": "b"}, message="crate folder renamed")
    again = repo.commit(
        {"b/ro-crate-metadata.json": _crate("#run-3333", start="2024-02-01T10:00:00Z")}, "rerun"
    )
    store, warnings = extract(repo.path)
    assert warnings == []
    found = commits_of(store, "rocrate")
    assert sorted(found.values(), key=sorted) == sorted([{first}, {again}], key=sorted)
    lines = rows(store, 'SELECT DISTINCT ?line WHERE { ?run kg:tool "rocrate" ; kg:commandLine ?line }')
    assert sorted(r["line"] for r in lines) == [
        "plot.py 300 a/in.csv a/out.png",
        "plot.py 300 b/in.csv b/out.png",
    ]
    per_run = rows(
        store, "SELECT ?run (COUNT(?line) AS ?n) WHERE { ?run kg:commandLine ?line } GROUP BY ?run"
    )
    assert {r["n"] for r in per_run} == {"1"}
    # what is not a file of the repository has no location in it
    located = rows(store, 'SELECT ?path WHERE { ?run kg:tool "rocrate" ; prov:used/prov:atLocation ?path }')
    assert {r["path"] for r in located} == {"a/in.csv", "b/in.csv"}


def test_cwlprov_payload_files_are_the_content_of_hash_entities(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("bag")
    source, result = b"whale\n", b"elahw\n"
    a, b = (hashlib.sha1(x).hexdigest() for x in (source, result))
    doc = f"""@prefix prov: <http://www.w3.org/ns/prov#> .
<urn:uuid:11111111-2222-3333-4444-555555555555> a prov:Activity ; prov:used <urn:hash::sha1:{a}> .
<urn:hash::sha1:{b}> a prov:Entity ; prov:wasGeneratedBy <urn:uuid:11111111-2222-3333-4444-555555555555> .
"""
    repo.commit(
        {
            "runs/rev/metadata/provenance/primary.cwlprov.ttl": doc,
            f"runs/rev/data/{a[:2]}/{a}": source,
            f"runs/rev/data/{b[:2]}/{b}": result,
        },
        "a cwltool --provenance bag",
    )
    store, warnings = extract(repo.path)
    assert warnings == []
    # from the payload file of the output, through the run, to the payload file of the input
    found = rows(
        store,
        """SELECT ?sha ?from ?to WHERE {
          ?out prov:alternateOf ?outv ; kg:sha1 ?sha ; prov:wasGeneratedBy ?run .
          ?outv a kg:FileVersion ; prov:atLocation ?from .
          ?run prov:used/prov:alternateOf ?inv . ?inv a kg:FileVersion ; prov:atLocation ?to .
        }""",
    )
    assert found == [{"sha": b, "from": f"runs/rev/data/{b[:2]}/{b}", "to": f"runs/rev/data/{a[:2]}/{a}"}]


def test_a_metadata_file_git_cannot_read_is_a_warning_naming_it(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("lost-blobs")
    first = repo.commit({"prov/run.ttl": PROV_DOC, "a/ro-crate-metadata.json": _crate("#r")}, "records")
    later = repo.commit({"prov/run.ttl": PROV_MORE, "dvc.lock": "schema: '2.0'\nstages: {}\n"}, "more")
    lost = {
        repo.git("rev-parse", f"{first}:a/ro-crate-metadata.json"),
        repo.git("rev-parse", f"{later}:prov/run.ttl"),
    }
    lost.add(repo.git("rev-parse", f"{later}:dvc.lock"))
    for blob in lost:
        (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    store, warnings = extract(repo.path)
    # one warning per object, whichever extractor met it first
    assert sorted(w.reason for w in warnings) == sorted(f"git object {b} is not readable" for b in lost)
    assert set(commits_of(store, "prov")) == {"https://example.org/clean"}  # the rest was read


def test_a_crate_folder_a_run_wrote_lists_its_parts_as_members(git_repo: Callable[[str], GitRepo]) -> None:
    graph = [
        {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"}},
        {"@id": "./", "@type": "Dataset", "hasPart": [{"@id": "out/"}]},
        {"@id": "out/", "@type": "Dataset", "hasPart": [{"@id": "out/a.txt"}, {"@id": "out/deep/"}]},
        {"@id": "out/a.txt", "@type": "File"},
        {"@id": "out/deep/", "@type": "Dataset", "hasPart": [{"@id": "out/deep/b.txt"}]},
        {"@id": "out/deep/b.txt", "@type": "File"},
        {"@id": "#tool", "@type": "SoftwareApplication", "name": "split"},
        *(
            {
                "@id": f"#run{n}",
                "@type": "CreateAction",
                "instrument": {"@id": "#tool"},
                "result": [{"@id": "out/"}],
            }
            for n in (1, 2)
        ),
    ]
    repo = git_repo("crate-folder")
    crate = json.dumps({"@context": "https://w3id.org/ro/crate/1.1/context", "@graph": graph})
    repo.commit({"c/ro-crate-metadata.json": crate, "c/out/a.txt": "a", "c/out/deep/b.txt": "b"}, "crate")
    store, warnings = extract(repo.path)
    assert warnings == []
    members = rows(
        store,
        """SELECT ?folder ?m WHERE { ?f a prov:Collection ; prov:atLocation ?folder ;
           prov:hadMember/prov:atLocation ?m }""",
    )
    assert {(r["folder"], r["m"]) for r in members} == {
        ("c/out", "c/out/a.txt"),
        ("c/out", "c/out/deep"),
        ("c/out/deep", "c/out/deep/b.txt"),
    }
    # two actions alike in everything are still two runs
    assert len(commits_of(store, "rocrate")) == 2
