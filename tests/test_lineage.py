"""Lineage over a repository mixing git history, a DVC pipeline and DataLad run records."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from kg.cli import app
from kg.config import Settings
from kg.errors import NotFound
from kg.iri import Minter
from kg.lineage import as_dot, as_tree
from kg.pipeline.ingest import ProjectInfo, ingest_repository
from kg.store import open_reader, open_store
from tests.fixtures.gitrepo import GitRepo
from tests.fixtures.servers import kg_env
from tests.lineage.helpers import walk

RAW = "station,mm\nA,12\nB,7\n"
CLEAN = "station,mm\nA,12\n"
CODE = "print('clean')\n"


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def datalad(cmd: str, inputs: list[str], outputs: list[str]) -> str:
    record = {
        "cmd": cmd,
        "inputs": inputs,
        "outputs": outputs,
        "pwd": ".",
        "exit": 0,
        "chain": [],
        "dsid": "00000000-0000-0000-0000-000000000001",
    }
    return (
        f"[DATALAD RUNCMD] {cmd[:20]}\n\n=== Do not change lines below ===\n"
        f"{json.dumps(record, indent=1)}\n^^^ Do not change lines above ^^^\n"
    )


def pipeline(repo: GitRepo) -> None:
    repo.commit({"raw/data.csv": RAW, "src/clean.py": CODE, "README": "hi"}, "start")
    lock = f"""schema: '2.0'
stages:
  clean:
    cmd: python src/clean.py
    deps:
    - path: raw/data.csv
      md5: {md5(RAW)}
    - path: src/clean.py
      md5: {md5(CODE)}
    outs:
    - path: data/clean.csv
      md5: {md5(CLEAN)}
"""
    repo.commit(
        {
            "dvc.yaml": "stages:\n  clean:\n    cmd: python src/clean.py\n    deps: [raw/data.csv, src/clean.py]\n    outs: [data/clean.csv]\n",
            "dvc.lock": lock,
            "data/clean.csv": CLEAN,
        },
        "dvc repro",
    )
    repo.commit(
        {"figures/plot.png": "png"},
        datalad("python src/plot.py", ["data/clean.csv"], ["figures/plot.png"]),
    )
    repo.commit({"README": "more"}, "plain edit")
    repo.commit({"report.pdf": "pdf"}, datalad("make report", ["figures/*.png"], ["report.pdf"]))


@pytest.fixture
def store_with(settings: Settings, tmp_path: Path) -> Callable[..., Any]:
    store = open_store(settings)

    def ingest(repo: GitRepo, slug: str) -> None:
        ingest_repository(
            store,
            Minter(settings.base_iri),
            repo.path,
            ProjectInfo(slug),
            workdir=tmp_path / "work",
        )

    def reader() -> Any:
        store.close()
        return open_reader(settings)

    ingest.reader = reader  # type: ignore[attr-defined]
    return ingest


def summary(doc: dict[str, Any]) -> tuple[set[str], set[tuple[str, str]]]:
    nodes = {n["id"]: n for n in doc["nodes"]}

    def name(i: str) -> str:
        n = nodes[i]
        return (
            f"run:{n['label']}"
            if n["type"] == "ProcessRun"
            else (f"{n['project']}:" if "project" in n else "") + n["location"]
        )

    return {name(i) for i in nodes}, {(name(e["source"]), name(e["target"])) for e in doc["edges"]}


def test_upstream_and_downstream_with_and_without_depth(
    git_repo: Callable[[str], GitRepo], store_with: Any, settings: Settings
) -> None:
    repo = git_repo("mixed")
    pipeline(repo)
    store_with(repo, "g/mixed")
    store = store_with.reader()
    up = walk(store, "g/mixed", "report.pdf", direction="upstream")
    nodes, edges = summary(up)
    assert nodes == {
        "report.pdf",
        "figures/plot.png",
        "data/clean.csv",
        "raw/data.csv",
        "src/clean.py",
        "run:make report",
        "run:python src/plot.py",
        "run:python src/clean.py",
    }
    assert ("run:python src/clean.py", "data/clean.csv") in edges
    assert ("raw/data.csv", "run:python src/clean.py") in edges
    assert ("figures/plot.png", "run:make report") in edges
    one, _ = summary(walk(store, "g/mixed", "report.pdf", direction="upstream", depth=1))
    assert one == {"report.pdf", "figures/plot.png", "run:make report"}

    down_nodes, down_edges = summary(walk(store, "g/mixed", "raw/data.csv", direction="downstream"))
    assert {"data/clean.csv", "figures/plot.png", "report.pdf"} <= down_nodes
    assert ("run:make report", "report.pdf") in down_edges
    two, _ = summary(walk(store, "g/mixed", "raw/data.csv", direction="downstream", depth=2))
    assert "report.pdf" not in two
    assert "figures/plot.png" in two
    both, _ = summary(walk(store, "g/mixed", "figures/plot.png"))
    assert {"raw/data.csv", "report.pdf"} <= both
    types = {n["type"] for n in up["nodes"]}
    assert types == {"File", "ProcessRun"}
    with pytest.raises(NotFound):
        walk(store, "g/mixed", "README")  # no run touched it
    with pytest.raises(NotFound):
        walk(store, "g/none", "x")
    tree = as_tree(up, "report.pdf")
    assert tree.splitlines()[0].startswith("report.pdf@")
    assert "← ⚙ python src/clean.py" in tree
    assert as_dot(up).startswith("digraph lineage {")


def test_lineage_crosses_projects_by_content(
    git_repo: Callable[[str], GitRepo], store_with: Any, settings: Settings
) -> None:
    a = git_repo("a")
    pipeline(a)
    b = git_repo("b")
    b.commit({"input/clean.csv": CLEAN}, "copy the cleaned data from project a")
    b.commit({"stats.txt": "2"}, datalad("python stats.py", ["input/clean.csv"], ["stats.txt"]))
    store_with(a, "g/a")
    store_with(b, "g/b")
    store = store_with.reader()
    up = walk(store, "g/b", "stats.txt", direction="upstream")
    nodes, edges = summary(up)
    assert "g/a:data/clean.csv" in nodes
    assert "g/a:raw/data.csv" in nodes
    assert ("g/a:data/clean.csv", "input/clean.csv") in edges
    # drawn: the other project's nodes dashed and named, this project's not
    dot = {
        line.split(" [", 1)[0].strip(): line for line in as_dot(up, "stats.txt").splitlines() if " [" in line
    }
    assert (
        'style="filled,dashed"' in dot['"g/a:data/clean.csv"'] and "\\n[g/a]" in dot['"g/a:data/clean.csv"']
    )
    assert "dashed" not in dot['"input/clean.csv"'] and "penwidth" in dot['"stats.txt"']
    assert "[g/a]" in as_tree(up, "stats.txt", "upstream")
    down, _ = summary(walk(store, "g/a", "raw/data.csv", direction="downstream"))
    assert "g/b:stats.txt" in down


def test_the_lineage_command(git_repo: Callable[[str], GitRepo], tmp_path: Path) -> None:
    repo = git_repo("cli")
    pipeline(repo)
    env = kg_env(tmp_path / "kg")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(repo.path), "--project", "g/cli"], env=env).exit_code == 0
    result = runner.invoke(
        app, ["lineage", "g/cli", "report.pdf", "--format", "json", "--depth", "1"], env=env
    )
    assert result.exit_code == 0, result.output
    assert {n["location"] for n in json.loads(result.stdout)["nodes"] if n["type"] == "File"} == {
        "report.pdf",
        "figures/plot.png",
    }
    tree = runner.invoke(app, ["lineage", "g/cli", "raw/data.csv", "--direction", "downstream"], env=env)
    assert "→ ⚙ python src/clean.py" in tree.stdout
    assert "digraph" in runner.invoke(app, ["lineage", "g/cli", "report.pdf", "-f", "dot"], env=env).stdout
    picture = tmp_path / "report.svg"
    drawn = runner.invoke(app, ["lineage", "g/cli", "report.pdf", "-f", "svg", "-o", str(picture)], env=env)
    assert drawn.exit_code == 0 and drawn.stdout == "", drawn.output
    assert ElementTree.parse(picture).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    assert "report.pdf@" in picture.read_text(encoding="utf-8")
    (tmp_path / "bin").mkdir()
    no_dot = runner.invoke(
        app, ["lineage", "g/cli", "report.pdf", "-f", "svg"], env={**env, "PATH": str(tmp_path / "bin")}
    )
    assert no_dot.exit_code == 1 and no_dot.stdout == ""
    assert no_dot.stderr.count("\n") == 1 and "apt-get install graphviz" in no_dot.stderr
    missing = runner.invoke(app, ["lineage", "g/cli", "nope.txt"], env=env)
    assert missing.exit_code == 1 and "not found" in missing.stderr
    assert runner.invoke(app, ["lineage", "g/cli", "x", "--direction", "sideways"], env=env).exit_code == 2
