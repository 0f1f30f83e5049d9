"""The built wheel works on its own: installed into a fresh venv, run outside the source tree.

The source tree keeps queries/ and ontology/ at its top; the wheel must carry them inside the
package (kg/resources/), or every query fails once kg is installed the way the image installs
it (see the Dockerfile). Dependencies come from the package registry, as in the image.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent
# what a checkout holds besides its tracked files: never part of a build
LOCAL_ONLY = shutil.ignore_patterns(
    ".git", ".venv", ".tools", ".kg", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".work"
)
PREFIXES = "PREFIX kg: <https://w3id.org/kg/ontology#> "

pytestmark = pytest.mark.slow


def run(command: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip wheel` builds from a copy of the checkout (the checkout stays clean)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(SOURCE, source, symlinks=True, ignore=LOCAL_ONLY)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", work / "dist", source], cwd=work)
    (built,) = (work / "dist").glob("kg-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ of a fresh venv with the wheel and its dependencies installed."""
    prefix = tmp_path_factory.mktemp("venv") / "venv"
    venv.create(prefix, with_pip=True)
    run([prefix / "bin" / "python", "-m", "pip", "install", "--quiet", wheel], cwd=prefix)
    return prefix / "bin"


def outside_env(bin_dir: Path, data_dir: Path) -> dict[str, str]:
    """An environment that sees only the installed kg: no source tree, no kg settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KG_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", KG_DATA_DIR=str(data_dir))
    return env


def test_the_wheel_carries_every_query_and_the_ontology(wheel: Path) -> None:
    shipped = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"kg/resources/{path.relative_to(SOURCE).as_posix()}"
        for top in ("queries", "ontology")
        for path in (SOURCE / top).rglob("*")
        if path.is_file()
    }
    assert len(expected) > 30
    assert expected <= shipped, sorted(expected - shipped)


def test_an_installed_kg_ingests_and_answers_outside_the_source_tree(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = outside_env(installed, tmp_path / "data")
    where = run([installed / "python", "-c", "import kg; print(kg.__file__)"], elsewhere, env)
    assert Path(where.strip()).is_relative_to(installed.parent), where
    assert not Path(where.strip()).is_relative_to(SOURCE)

    run([installed / "kg", "demo-repo", elsewhere / "demo"], elsewhere, env)
    summary = run(
        [installed / "kg", "ingest", elsewhere / "demo", "--project", "demo/rainfall"], elsewhere, env
    )
    assert "0 warnings" in summary, summary
    count = PREFIXES + "SELECT (COUNT(?c) AS ?n) WHERE { ?c a kg:Commit }"
    assert run([installed / "kg", "sparql", count, "--format", "csv"], elsewhere, env).split() == ["n", "6"]
    first = PREFIXES + 'SELECT ?m WHERE { ?c a kg:Commit ; kg:message ?m FILTER(STRSTARTS(?m, "Start")) }'
    assert "Start the analysis project" in run([installed / "kg", "sparql", first], elsewhere, env)
    lineage = run(
        [installed / "kg", "lineage", "demo/rainfall", "figures/monthly rainfall.png"], elsewhere, env
    )
    assert "results/monthly.csv" in lineage, lineage


def test_the_installed_ontology_is_served_from_the_package(installed: Path, tmp_path: Path) -> None:
    code = "from kg import ontology; print(len(ontology.turtle()), len(ontology.shapes()), ontology.__file__)"
    out = run([installed / "python", "-c", code], tmp_path, outside_env(installed, tmp_path / "data"))
    turtle, shapes, module = out.split()
    assert int(turtle) > 1000
    assert int(shapes) > 1000
    assert Path(module).is_relative_to(installed.parent)
