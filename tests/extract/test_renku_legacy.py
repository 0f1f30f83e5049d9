"""Renku 0.x (schema 8): ciyer/inflation's workflow run and datasets, also after deletion at HEAD."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.extract.helpers import PROJECT, copy_tree, extract, rows
from tests.fixtures.gitrepo import GitRepo

RENKU = "PREFIX renku: <https://swissdatasciencecenter.github.io/renku-ontology#>\n"
RUN = f"{PROJECT}/-/renku/activities/commit/72a0cb255c2f84aecd95c9589c057bb3026d79eb"


@pytest.fixture
def inflation(real: Path, git_repo: Callable[[str], GitRepo]) -> GitRepo:
    repo = git_repo("inflation")
    copy_tree(real / "renku-v0-yaml", repo.path)
    repo.commit(message="renku run python src/python/preprocess_cpi-m.py data/oecd/")
    shutil.rmtree(repo.path / ".renku")
    repo.commit(message="cleaning out the renku")  # metadata gone at HEAD, as in emmjab/flights_analysis
    return repo


def test_the_run_its_plan_and_lineage_shortcuts(inflation: GitRepo) -> None:
    store, warnings = extract(inflation.path)
    assert warnings == []
    runs = rows(
        store,
        "SELECT ?run ?start WHERE { ?run a kg:Run ; kg:tool 'renku' ; prov:startedAtTime ?start }",
    )
    assert runs == [{"run": RUN, "start": "2021-07-05T12:39:37Z"}]  # xsd:dateTime normalized
    used = rows(store, f"SELECT ?path WHERE {{ <{RUN}> prov:used/prov:atLocation ?path }}")
    assert {r["path"] for r in used} == {"src/python/preprocess_cpi-m.py", "data/oecd"}
    made = rows(store, f"SELECT ?path WHERE {{ ?e prov:wasGeneratedBy <{RUN}> ; prov:atLocation ?path }}")
    assert len(made) == 8
    assert "data/preprocess/m1-cpi_m.csv" in {r["path"] for r in made}
    plan = rows(
        store,
        RENKU
        + f"""
        SELECT ?cmd (COUNT(DISTINCT ?i) AS ?ins) (COUNT(DISTINCT ?o) AS ?outs) WHERE {{
          <{RUN}> prov:qualifiedAssociation/prov:hadPlan ?plan .
          ?plan renku:command ?cmd ; renku:hasInputs ?i ; renku:hasOutputs ?o .
        }} GROUP BY ?cmd""",
    )
    assert plan == [{"cmd": "python", "ins": "2", "outs": "8"}]
    # the activity's commit is not in this history: the run is in the one that brought it
    recorded = rows(
        store,
        f"SELECT ?sha ?named ?line WHERE {{ <{RUN}> kg:inCommit/kg:sha ?sha ; kg:recordedCommit ?named ; kg:commandLine ?line }}",
    )
    first = inflation.git("rev-list", "--max-parents=0", "HEAD")
    line = "python src/python/preprocess_cpi-m.py data/oecd"
    assert recorded == [{"sha": first, "named": RUN.rsplit("/", 1)[-1], "line": line}]
    members = rows(
        store,
        "SELECT ?m WHERE { ?c prov:atLocation 'data/oecd' ; prov:hadMember/prov:atLocation ?m }",
    )
    assert {r["m"] for r in members} == {
        "data/oecd/M1.csv",
        "data/oecd/CPI.csv",
        "data/oecd/M3.csv",
    }


def test_datasets_people_and_rebased_hosts(inflation: GitRepo) -> None:
    store, _ = extract(inflation.path)
    datasets = rows(
        store,
        "SELECT ?short ?name WHERE { ?d a schema:Dataset ; schema:alternateName ?short ; schema:name ?name }",
    )
    assert {(r["short"], r["name"]) for r in datasets} == {("barro", "Barro"), ("oecd", "OECD")}
    names = rows(store, "SELECT DISTINCT ?n WHERE { ?p schema:email 'cramakri@ethz.ch' ; schema:name ?n }")
    assert {r["n"] for r in names} == {"Chandrasekhar Ramakrishnan", "Chandrasekahr Ramakrishnan"}
    hosts = rows(
        store,
        """SELECT ?x WHERE { { ?x ?p ?o } UNION { ?s ?p ?x FILTER(isIRI(?x)) }
        FILTER(CONTAINS(STR(?x), "localhost") || CONTAINS(STR(?x), "renku.ch/")) }""",
    )
    assert hosts == []
    assert rows(store, f"SELECT ?v WHERE {{ <{PROJECT}> schema:schemaVersion ?v }}") == [{"v": "8"}]


def test_broken_metadata_is_a_warning(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("broken-renku")
    bad = repo.commit(
        {
            ".renku/workflow/x.yaml": "- '@id': [unclosed",
            ".renku/datasets/d/metadata.yml": "'@id': 42\n'@type': 7\n",
        }
    )
    store, warnings = extract(repo.path)
    assert {(w.commit, w.path) for w in warnings} == {
        (bad, ".renku/workflow/x.yaml"),
        (bad, ".renku/datasets/d/metadata.yml"),
    }
    assert rows(store, "SELECT ?c WHERE { ?c a kg:Commit }")


def test_a_cwl_workflow_file_makes_its_commit_the_run(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("renku010")
    repo.commit({"input.txt": "x"}, "data")
    cwl = """cwlVersion: v1.0
class: CommandLineTool
baseCommand: [python, count.py]
inputs:
  input_1:
    type: File
    default: {class: File, path: ../../input.txt}
outputs: {}
"""
    sha = repo.commit(
        {".renku/workflow/abc_python.cwl": cwl, "count.txt": "1"},
        "renku run python count.py input.txt",
    )
    store, warnings = extract(repo.path)
    assert warnings == []
    run = rows(
        store,
        f"""SELECT ?in ?out ?cmd WHERE {{ ?r kg:tool 'renku' ; kg:inCommit/kg:sha '{sha}' ;
        prov:used/prov:atLocation ?in ; prov:qualifiedAssociation/prov:hadPlan/kg:command ?cmd .
        ?o prov:wasGeneratedBy ?r ; prov:atLocation ?out }}""",
    )
    assert run == [{"in": "input.txt", "out": "count.txt", "cmd": "python count.py"}]


GONE = "0123456789abcdef0123456789abcdef01234567"  # a commit a history rewrite removed
R = "https://swissdatasciencecenter.github.io/renku-ontology#"
P = "http://www.w3.org/ns/prov#"


def _node(id_: str, types: list[str], **props: object) -> dict[str, object]:
    return {"@id": id_, "@type": types, **props}


def _workflow_yaml() -> str:
    """A renku 0.11-0.16 workflow file (expanded JSON-LD) for a run whose commit is gone."""
    run, plan = f"https://localhost/activities/commit/{GONE}", "https://renku.example/runs/p1"
    blob = "https://renku.example/blob/" + GONE
    nodes = [
        _node(run, [P + "Activity"], **{P + "qualifiedAssociation": [{"@id": run + "/association"}]}),
        _node(run + "/association", [P + "Association"], **{P + "hadPlan": [{"@id": plan}]}),
        _node(
            plan,
            [P + "Plan", P + "Entity", R + "Run"],
            **{
                R + "command": [{"@value": "python"}],
                R + "hasArguments": [{"@id": plan + "/arguments/1"}],
                R + "hasInputs": [{"@id": plan + "/inputs/1"}, {"@id": plan + "/inputs/2"}],
                R + "hasOutputs": [{"@id": plan + "/outputs/1"}, {"@id": plan + "/outputs/2"}],
            },
        ),
        _node(
            plan + "/arguments/1",
            [R + "CommandArgument"],
            **{R + "position": [{"@value": 1}], "http://schema.org/defaultValue": [{"@value": "-u"}]},
        ),
        _node(
            plan + "/inputs/1",
            [R + "CommandInput"],
            **{
                R + "position": [{"@value": 2}],
                "http://schema.org/defaultValue": [{"@value": "old.py"}],
                R + "consumes": [{"@id": blob + "/src/count.py"}],
            },
        ),
        _node(
            plan + "/inputs/2",
            [R + "CommandInput"],
            **{
                R + "position": [{"@value": 3}],
                R + "prefix": [{"@value": "--data="}],
                R + "consumes": [{"@id": blob + "/data/in.csv"}],
            },
        ),
        _node(
            plan + "/outputs/1",
            [R + "CommandOutput"],
            **{R + "position": [{"@value": 4}], R + "produces": [{"@id": blob + "/out.txt"}]},
        ),
        _node(plan + "/outputs/2", [R + "CommandOutput"], **{R + "produces": [{"@id": blob + "/log.txt"}]}),
        *(
            _node(blob + "/" + path, [P + "Entity"], **{P + "atLocation": [{"@value": path}]})
            for path in ("src/count.py", "data/in.csv", "out.txt", "log.txt")
        ),
    ]
    return yaml.safe_dump(nodes)


def test_a_run_whose_commit_is_gone_is_in_the_commit_that_brought_it(
    git_repo: Callable[[str], GitRepo],
) -> None:
    repo = git_repo("renku-rewritten")
    brought = repo.commit({".renku/workflow/abc_python.yaml": _workflow_yaml()}, "renku run (rebased)")
    repo.commit({".renku/workflow/abc_python.yaml": _workflow_yaml() + "# touched\n"}, "touched")
    store, warnings = extract(repo.path)
    assert warnings == []
    found = rows(
        store,
        """SELECT ?sha ?named ?line ?cmd ?name WHERE { ?run a kg:Run ; kg:tool 'renku' ;
             kg:inCommit/kg:sha ?sha ; kg:recordedCommit ?named ; kg:commandLine ?line ;
             prov:qualifiedAssociation/prov:hadPlan ?plan .
           ?plan kg:command ?cmd ; schema:name ?name ; kg:tool 'renku' }""",
    )
    line = "python -u src/count.py --data=data/in.csv out.txt"
    assert found == [{"sha": brought, "named": GONE, "line": line, "cmd": "python", "name": line}]


def test_dataset_versions_lead_to_the_datasets_and_the_folder_is_the_initial_id(
    git_repo: Callable[[str], GitRepo],
) -> None:
    s, host = "http://schema.org/", "https://renku.example"
    current, older, folder = "bbbb2222", "aaaa1111", "f01d0000"
    url = f"{host}/urls/%2F%2Frenku.example%2Fdatasets%2F{older}"
    nodes = [
        _node(
            f"{host}/datasets/{current}",
            [s + "Dataset", P + "Entity"],
            **{
                s + "name": [{"@value": "Rain"}],
                s + "identifier": [{"@value": current}],
                P + "atLocation": [{"@value": f".renku/datasets/{folder}"}],
                P + "wasDerivedFrom": [{"@id": url}],
                s + "hasPart": [
                    {"@id": f"{host}/blob/x/data/rain.csv"},
                    {"@id": f"{host}/blob/x/.renku/datasets/{folder}"},
                ],
            },
        ),
        _node(url, [s + "URL"], **{s + "url": [{"@id": f"{host}/datasets/{older}"}]}),
        _node(
            f"{host}/blob/x/data/rain.csv",
            [P + "Entity"],
            **{P + "atLocation": [{"@value": "data/rain.csv"}]},
        ),
        _node(
            f"{host}/blob/x/.renku/datasets/{folder}",
            [P + "Entity"],
            **{P + "atLocation": [{"@value": f".renku/datasets/{folder}"}]},
        ),
    ]
    repo = git_repo("renku-versions")
    repo.commit({f".renku/datasets/{folder}/metadata.yml": yaml.safe_dump(nodes)}, "renku dataset edit")
    store, warnings = extract(repo.path)
    assert warnings == []
    found = rows(
        store,
        RENKU
        + """SELECT ?from ?initial WHERE { ?d a schema:Dataset ; prov:wasDerivedFrom ?from ;
             renku:originalIdentifier ?initial FILTER(CONTAINS(STR(?from), "/datasets/")) }""",
    )
    assert found == [{"from": f"{PROJECT}/-/renku/datasets/{older}", "initial": folder}]
    parts = rows(
        store,
        "SELECT ?path WHERE { ?d a schema:Dataset ; prov:atLocation|schema:hasPart/prov:atLocation ?path }",
    )
    assert [r["path"] for r in parts] == ["data/rain.csv"]


def _binding(position: int, prefix: str | None = None) -> dict[str, object]:
    binding: dict[str, object] = {"position": position, "separate": True, "shellQuote": True}
    return binding | ({"prefix": prefix} if prefix else {})


def _renku_cwl(command: str, inputs: list[tuple[object, str | None]], globs: list[int]) -> str:
    """A `renku run` (<= 0.10) CWL file: each argument an input with a position, files as
    File defaults relative to `.renku/workflow`, outputs that did not exist as strings."""
    tool: dict[str, object] = {
        "arguments": [],
        "baseCommand": [command],
        "class": "CommandLineTool",
        "cwlVersion": "v1.0",
        "inputs": {
            f"input_{i}": {
                "default": value,
                "inputBinding": _binding(i, prefix),
                "type": "File" if isinstance(value, dict) else "string",
            }
            for i, (value, prefix) in enumerate(inputs, start=1)
        },
        "outputs": {
            f"output_{n}": {"outputBinding": {"glob": f"$(inputs.input_{i})"}, "type": "File"}
            for n, i in enumerate(globs)
        },
    }
    return yaml.safe_dump(tool)


def _file(path: str) -> dict[str, str]:
    return {"class": "File", "path": "../../" + path}


def test_a_cwl_run_keeps_its_whole_command_line(git_repo: Callable[[str], GitRepo]) -> None:
    """emmjab/flights_analysis: string inputs, `-p` prefixes and outputs are words of the command."""
    repo = git_repo("flights")
    zipped, filtered = "data/flights_1/2019-01-flights.csv.zip", "data/output/2019-01-flights-filtered.csv"
    repo.commit({"src/00-Filter.py": "x", zipped: "z", "notebooks/01-Count.ipynb": "{}"}, "data")
    filter_cwl = _renku_cwl(
        "python", [(_file("src/00-Filter.py"), None), (_file(zipped), None), (filtered, None)], [3]
    )
    first = repo.commit(
        {".renku/workflow/e88_python.cwl": filter_cwl, filtered: "f"},
        f"renku run python src/00-Filter.py {zipped} {filtered}",
    )
    count = [
        (_file("notebooks/01-Count.ipynb"), None),
        ("notebooks/01-Count.ran.ipynb", None),
        ("input_path", "-p"),
        (_file(filtered), None),
        ("output_path", "-p"),
        ("data/output/2019-01-flights-count.txt", None),
    ]
    second = repo.commit(
        {
            ".renku/workflow/018_papermill.cwl": _renku_cwl("papermill", count, [6, 2]),
            "data/output/2019-01-flights-count.txt": "3",
            "notebooks/01-Count.ran.ipynb": "{}",
        },
        "renku run papermill …",
    )
    store, warnings = extract(repo.path)
    assert warnings == []
    lines = rows(
        store,
        "SELECT ?sha ?line WHERE { ?r kg:tool 'renku' ; kg:inCommit/kg:sha ?sha ; kg:commandLine ?line }",
    )
    assert sorted((r["sha"], r["line"]) for r in lines) == sorted(
        [
            (first, f"python src/00-Filter.py {zipped} {filtered}"),
            (
                second,
                "papermill notebooks/01-Count.ipynb notebooks/01-Count.ran.ipynb -p input_path "
                f"{filtered} -p output_path data/output/2019-01-flights-count.txt",
            ),
        ]
    )
    used = rows(
        store, f"SELECT ?path WHERE {{ ?r kg:inCommit/kg:sha '{second}' ; prov:used/prov:atLocation ?path }}"
    )
    assert {r["path"] for r in used} == {"notebooks/01-Count.ipynb", filtered}
