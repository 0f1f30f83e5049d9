"""The bundled demo repository: a small analysis project with a history worth asking about."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

_AUTHORS = {
    "ada": ("Ada Lovelace", "ada@example.org"),
    "grace": ("Grace Hopper", "grace@example.org"),
}

# (author, message, {path: content or None to delete}, renames {old: new})
_HISTORY: list[tuple[str, str, dict[str, str | None], dict[str, str]]] = [
    (
        "ada",
        "Start the analysis project",
        {
            "README.md": "# Rainfall analysis\n",
            "data/raw/rainfall.csv": "station,mm\nA,12\nB,7\n",
            "src/clean.py": "import csv\n",
        },
        {},
    ),
    (
        "grace",
        "Clean the raw data",
        {
            "src/clean.py": "import csv\n\ndef clean(rows):\n    return [r for r in rows if r]\n",
            "data/clean/rainfall.csv": "station,mm\nA,12\nB,7\n",
        },
        {},
    ),
    (
        "ada",
        "Plot monthly rainfall",
        {
            "src/plot.py": "import matplotlib\n",
            "figures/monthly rainfall.png": "\x89PNG\r\n\x1a\nnot really a png\n",
        },
        {},
    ),
    (
        "grace",
        "Move sources into a package",
        {},
        {"src/clean.py": "rainfall/clean.py", "src/plot.py": "rainfall/plot.py"},
    ),
    (
        "ada",
        "Add station metadata (données)",
        {"data/raw/stations é.csv": "id,name\nA,Zürich\n"},
        {},
    ),
    ("grace", "Drop the obsolete figure", {"figures/monthly rainfall.png": None}, {}),
]


def _git(repo: Path, *args: str, author: str = "ada", when: int = 0) -> None:
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
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


def build_demo_repository(target: Path) -> Path:
    """Create the demo repository at `target` (which must not exist yet); returns it."""
    target.mkdir(parents=True)
    _git(target, "init", "--quiet", "--initial-branch=main")
    for day, (author, message, files, renames) in enumerate(_HISTORY):
        for path, content in files.items():
            file = target / path
            if content is None:
                _git(target, "rm", "--quiet", path)
                continue
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(content, encoding="utf-8")
            _git(target, "add", path)
        for old, new in renames.items():
            (target / new).parent.mkdir(parents=True, exist_ok=True)
            _git(target, "mv", old, new)
        _git(target, "commit", "--quiet", "-m", message, author=author, when=day)
    return target
