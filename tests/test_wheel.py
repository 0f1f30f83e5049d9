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
import yaml

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
    """The wheel `pip wheel` builds from what the Dockerfile copies of the checkout (which
    stays clean), as the image's first stage does."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in dockerfile_sources():
        if (SOURCE / name).is_dir():
            shutil.copytree(SOURCE / name, source / name, symlinks=True, ignore=LOCAL_ONLY)
        else:
            shutil.copy2(SOURCE / name, source / name)
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


def test_the_wheel_carries_the_built_explorer(wheel: Path) -> None:
    shipped = set(zipfile.ZipFile(wheel).namelist())
    static = SOURCE / "kg" / "explorer" / "static"
    expected = {
        f"kg/explorer/static/{p.relative_to(static).as_posix()}" for p in static.rglob("*") if p.is_file()
    }
    assert {"kg/explorer/static/index.html", "kg/explorer/static/explorer.js"} <= expected
    assert "kg/explorer/static/docs/swagger-ui-bundle.js" in expected
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


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's stages, each a list of (INSTRUCTION, arguments), continuations joined."""
    text = (SOURCE / "Dockerfile").read_text().replace("\\\n", " ")
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, arguments = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), " ".join(arguments.split())))
    return stages


def dockerfile_sources() -> list[str]:
    """What the image's build stage copies from the checkout."""
    (build, *_) = dockerfile_stages()
    return [name for op, args in build if op == "COPY" for name in args.split()[:-1]]


def test_the_image_builds_and_installs_the_wheel_as_tested_here() -> None:
    # No docker daemon here: the Dockerfile is read, and its steps are the ones this file runs.
    build, final = dockerfile_stages()
    # the `wheel` fixture builds from exactly these; queries/ and ontology/ are kg/resources' targets
    assert set(dockerfile_sources()) >= {"pyproject.toml", "kg", "webhooks", "queries", "ontology"}
    assert any(op == "RUN" and "pip wheel" in args and "--no-deps" in args for op, args in build)
    assert dict(final)["FROM"] == "python:3.11-slim"
    runs = [args for op, args in final if op == "RUN"]
    assert any("pip install" in run and "kg-*.whl" in run for run in runs)
    assert any("apt-get install" in run and " git " in f"{run} " for run in runs)


def test_the_image_runs_kg_as_a_numeric_non_root_user() -> None:
    (*_, final) = dockerfile_stages()
    users = [args for op, args in final if op == "USER"]
    assert users, "no USER: the image would run as root"
    uid = users[-1].split(":")[0]
    # runAsNonRoot (charts/kg) can only verify a numeric user
    assert uid.isdigit() and int(uid) != 0, users[-1]
    chart = yaml.safe_load((SOURCE / "charts" / "kg" / "values.yaml").read_text())
    assert int(uid) == chart["podSecurityContext"]["runAsUser"]  # the image's own data dir is this user's
    assert dict(final)["ENTRYPOINT"] == '["kg"]'
    assert dict(final)["EXPOSE"] == "8080"


def test_the_build_context_keeps_what_the_dockerfile_copies() -> None:
    ignored = {line.strip() for line in (SOURCE / ".dockerignore").read_text().splitlines()}
    assert not set(dockerfile_sources()) & ignored
    assert {".git", ".venv", ".tools"} <= ignored
