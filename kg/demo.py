"""The bundled demo repository: a small rainfall analysis with real provenance.

Six commits: a DVC pipeline (`clean`, then `monthly`) run with `dvc repro`, a `datalad run`
that plots its result, corrected raw data, the pipeline run again, and the plot run again
(a DataLad rerun). So the monthly table the first plot used was regenerated after it was
used, and the lineage of the final figure is a graph of several steps.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

_AUTHORS = {
    "ada": ("Ada Lovelace", "ada@example.org"),
    "grace": ("Grace Hopper", "grace@example.org"),
}

RAW = "data/raw/rainfall.csv"
CLEAN = "data/clean/rainfall.csv"
MONTHLY = "results/monthly.csv"
FIGURE = "figures/monthly rainfall.png"
"""The final output: the lineage `make run` points at."""

_PIPELINE = f"""\
stages:
  clean:
    cmd: python src/clean.py {RAW} {CLEAN}
    deps: [{RAW}, src/clean.py]
    outs: [{CLEAN}]
  monthly:
    cmd: python src/monthly.py {CLEAN} {MONTHLY}
    deps: [{CLEAN}, src/monthly.py]
    outs: [{MONTHLY}]
"""
_SOURCES = {
    "src/clean.py": "import csv, sys\n\nrows = [r for r in csv.reader(open(sys.argv[1])) if all(r)]\n",
    "src/monthly.py": "import csv, sys\n\n# sum millimetres per station and month\n",
    "src/plot.py": "import sys\n\n# draw the monthly table as a bar chart\n",
}
_RAW_V1 = "station,month,mm\nA,2024-01,12\nB,2024-01,7\nB,2024-01,\n"
_RAW_V2 = "station,month,mm\nA,2024-01,12\nB,2024-01,9\nC,2024-01,4\n"


def _stage(cmd: str, deps: dict[str, str], outs: dict[str, str]) -> str:
    """One `dvc.lock` stage entry (schema 2.0): paths with the md5 and size of their content."""

    def files(paths: dict[str, str]) -> str:
        return "".join(
            f"    - path: {path}\n      md5: {hashlib.md5(text.encode()).hexdigest()}\n"
            f"      size: {len(text.encode())}\n"
            for path, text in paths.items()
        )

    return f"    cmd: {cmd}\n    deps:\n{files(deps)}    outs:\n{files(outs)}"


def _lock(raw: str, clean: str, monthly: str) -> str:
    """The `dvc.lock` that `dvc repro` writes for these contents."""
    return (
        "schema: '2.0'\nstages:\n  clean:\n"
        + _stage(
            f"python src/clean.py {RAW} {CLEAN}",
            {RAW: raw, "src/clean.py": _SOURCES["src/clean.py"]},
            {CLEAN: clean},
        )
        + "  monthly:\n"
        + _stage(
            f"python src/monthly.py {CLEAN} {MONTHLY}",
            {CLEAN: clean, "src/monthly.py": _SOURCES["src/monthly.py"]},
            {MONTHLY: monthly},
        )
    )


def _datalad(title: str, chain: list[str]) -> str:
    """The commit message `datalad run` writes (its run record between the markers)."""
    record = {
        "chain": chain,
        "cmd": "python src/plot.py {inputs} {outputs}",
        "dsid": "5b1e4a3c-0f5e-4f4e-9d7a-3f1c2b8e6d00",
        "exit": 0,
        "extra_inputs": [],
        "inputs": [MONTHLY],
        "outputs": [FIGURE],
        "pwd": ".",
    }
    body = json.dumps(record, indent=1, sort_keys=True)
    begin, end = "=== Do not change lines below ===", "^^^ Do not change lines above ^^^"
    return f"[DATALAD RUNCMD] {title}\n\n{begin}\n{body}\n{end}"


_CLEAN_V1, _CLEAN_V2 = "station,month,mm\nA,2024-01,12\nB,2024-01,7\n", _RAW_V2
_MONTHLY_V1 = "station,month,total_mm\nA,2024-01,12\nB,2024-01,7\n"
_MONTHLY_V2 = "station,month,total_mm\nA,2024-01,12\nB,2024-01,9\nC,2024-01,4\n"

# (author, message, {path: content}); a message naming the previous DataLad run chains to it
_HISTORY: list[tuple[str, str, dict[str, str]]] = [
    (
        "ada",
        "Start the analysis project",
        {"README.md": "# Rainfall analysis\n", RAW: _RAW_V1, "dvc.yaml": _PIPELINE, **_SOURCES},
    ),
    (
        "grace",
        "Clean the raw data and sum it by month (dvc repro)",
        {CLEAN: _CLEAN_V1, MONTHLY: _MONTHLY_V1, "dvc.lock": _lock(_RAW_V1, _CLEAN_V1, _MONTHLY_V1)},
    ),
    ("ada", "Plot monthly rainfall", {FIGURE: "\x89PNG\r\n\x1a\nfirst plot\n"}),
    (
        "grace",
        "Correct station B and add station metadata (données)",
        {RAW: _RAW_V2, "data/raw/stations é.csv": "id,name\nA,Zürich\nB,Genève\nC,Basel\n"},
    ),
    (
        "ada",
        "Run the pipeline on the corrected data (dvc repro)",
        {CLEAN: _CLEAN_V2, MONTHLY: _MONTHLY_V2, "dvc.lock": _lock(_RAW_V2, _CLEAN_V2, _MONTHLY_V2)},
    ),
    ("grace", "Replot monthly rainfall", {FIGURE: "\x89PNG\r\n\x1a\nsecond plot\n"}),
]
_DATALAD_RUNS = {"Plot monthly rainfall", "Replot monthly rainfall"}


def _git(repo: Path, *args: str, author: str = "ada", when: int = 0) -> str:
    name, email = _AUTHORS[author]
    stamp = f"{1_700_000_000 + when * 86_400} +0100"
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
    }
    done = subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)
    return done.stdout.decode().strip()


def build_demo_repository(target: Path) -> Path:
    """Create the demo repository at `target` (which must not exist yet); returns it."""
    target.mkdir(parents=True)
    _git(target, "init", "--quiet", "--initial-branch=main")
    runs: list[str] = []
    for day, (author, message, files) in enumerate(_HISTORY):
        for path, content in files.items():
            file = target / path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(content, encoding="utf-8")
            _git(target, "add", "--", path)
        if message in _DATALAD_RUNS:
            message = _datalad(message, runs[-1:])
        _git(target, "commit", "--quiet", "-m", message, author=author, when=day)
        if message.startswith("[DATALAD RUNCMD]"):
            runs.append(_git(target, "rev-parse", "HEAD"))
    return target
