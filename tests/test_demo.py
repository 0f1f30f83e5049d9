"""The demo repository `make run` ingests holds a real provenance pipeline."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kg.cli import app
from kg.demo import CLEAN, FIGURE, MONTHLY, RAW
from tests.fixtures.servers import kg_env

PREFIXES = "PREFIX kg: <https://w3id.org/kg/ontology#> PREFIX prov: <http://www.w3.org/ns/prov#> "


@pytest.fixture
def kg(tmp_path: Path) -> Callable[..., str]:
    env = kg_env(tmp_path / "kg")
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.stdout

    return run


def csv_rows(text: str) -> list[list[str]]:
    return [line.split(",", 2) for line in text.strip().splitlines()[1:]]


def test_the_demo_is_a_pipeline_whose_input_was_regenerated_after_use(
    kg: Callable[..., str], tmp_path: Path
) -> None:
    repo = tmp_path / "demo"
    kg("demo-repo", str(repo))
    assert "0 warnings" in kg("ingest", str(repo), "--project", "demo/rainfall")
    history = subprocess.run(
        ["git", "-C", str(repo), "log", "--reverse", "--format=%H"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    runs = kg(
        "sparql",
        PREFIXES
        + """SELECT ?tool ?sha ?line WHERE { ?r a kg:Run ; kg:tool ?tool ; kg:inCommit/kg:sha ?sha ;
             kg:commandLine ?line } ORDER BY ?sha ?line""",
        "--format",
        "csv",
    )
    found = {(tool, history.index(sha), line) for tool, sha, line in csv_rows(runs)}
    clean = f"python src/clean.py {RAW} {CLEAN}"
    monthly = f"python src/monthly.py {CLEAN} {MONTHLY}"
    plot = f"python src/plot.py {MONTHLY} '{FIGURE}'"
    assert found == {
        ("dvc", 1, clean),
        ("dvc", 1, monthly),
        ("datalad", 2, plot),
        ("dvc", 4, clean),
        ("dvc", 4, monthly),
        ("datalad", 5, plot),
    }
    # the first plot used the monthly table that the second pipeline run replaced
    used = kg(
        "sparql",
        PREFIXES
        + f"""SELECT ?sha WHERE {{ ?r kg:tool "datalad" ; kg:inCommit/kg:sha ?sha ; prov:used ?v .
             ?v prov:atLocation "{MONTHLY}" . ?newer prov:wasRevisionOf ?v }}""",
        "--format",
        "csv",
    )
    assert [history.index(r[0]) for r in csv_rows(used)] == [2]
    # a DVC output is the git file version with its content, so the steps join up
    joined = kg(
        "sparql",
        PREFIXES
        + f"""SELECT (COUNT(DISTINCT ?v) AS ?n) WHERE {{ ?e prov:wasGeneratedBy/kg:tool "dvc" ;
             prov:alternateOf ?v . ?v a kg:FileVersion ; prov:atLocation "{MONTHLY}" }}""",
        "--format",
        "csv",
    )
    assert csv_rows(joined) == [["2"]]


def test_the_demo_is_the_same_repository_every_time(kg: Callable[..., str], tmp_path: Path) -> None:
    # `make run` builds it anew each time (--force): the same commits, so the ingest is unchanged
    heads = []
    for _ in range(2):
        kg("demo-repo", "--force", str(tmp_path / "demo"))
        heads.append(
            subprocess.run(
                ["git", "-C", str(tmp_path / "demo"), "rev-parse", "HEAD"], capture_output=True, text=True
            ).stdout
        )
    assert heads[0] == heads[1] and len(heads[0].strip()) == 40
