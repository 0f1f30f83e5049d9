"""The explorer's built files match its sources: `make web` rebuilds them from web/ (Node is
needed only there), and the stamp it writes names the sources it read, so an edit to web/
without a rebuild fails here, on a machine without Node."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
STATIC = ROOT / "kg" / "explorer" / "static"


def source_digest() -> str:
    """web/build.mjs's `sourceDigest`: sorted paths under web/, each "path NUL sha256 LF"."""
    inputs = [p for p in (WEB / "src").rglob("*") if p.is_file()]
    inputs += [WEB / name for name in ("build.mjs", "package.json", "package-lock.json")]
    lines = sorted(p.relative_to(WEB).as_posix() for p in inputs)
    text = "".join(f"{name}\0{hashlib.sha256((WEB / name).read_bytes()).hexdigest()}\n" for name in lines)
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_bundle_was_built_from_these_sources() -> None:
    stamp = json.loads((STATIC / "build.json").read_text())
    assert stamp["sources"] == source_digest(), "web/ changed since the last build: run `make web`"
    declared = json.loads((WEB / "package.json").read_text())["dependencies"]
    assert stamp["dependencies"] == declared


def test_dependencies_are_pinned_and_locked() -> None:
    package = json.loads((WEB / "package.json").read_text())
    lock = json.loads((WEB / "package-lock.json").read_text())
    for name, version in {**package["dependencies"], **package["devDependencies"]}.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned: {version}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
        assert lock["packages"][f"node_modules/{name}"]["integrity"].startswith("sha512-")


def test_the_shell_names_only_shipped_files() -> None:
    shell = (STATIC / "index.html").read_text()
    for ref in re.findall(r'(?:src|href)="(/explore/static/[^"]+)"', shell):
        assert (STATIC / ref.removeprefix("/explore/static/")).is_file(), ref
    assert "http://" not in shell and "https://" not in shell  # nothing from elsewhere


def test_bundled_licences_are_shipped_and_permissive() -> None:
    licences = (STATIC / "explorer.js.LICENSES.txt").read_text()
    headers = re.findall(r"^(\S+) (\d+\.\d+\.\d+\S*) \((.+)\)$", licences, re.MULTILINE)
    names = {name for name, _, _ in headers}
    assert {"cytoscape", "cytoscape-dagre", "codemirror", "@codemirror/legacy-modes"} <= names
    assert {kind for _, _, kind in headers} <= {"MIT", "ISC", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0"}
    assert (STATIC / "docs" / "LICENSE").is_file()  # Swagger UI's
