"""Lineage as an SVG picture, drawn by Graphviz's `dot` (Debian package `graphviz`).

`dot` runs with a time limit and writes to a file whose size the kernel limits
(RLIMIT_FSIZE), so a huge graph costs at most `DOT_SECONDS` and `MAX_SVG_BYTES`.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from kg.errors import CommandFailed, KgError
from kg.lineage.render import as_dot

DOT_SECONDS = 120.0
"""How long `dot` may take to lay out one picture."""
MAX_SVG_BYTES = 256 << 20
"""The largest picture written (50,000 nodes take about 40 MB)."""


class GraphvizMissing(KgError):
    """Graphviz's `dot` is not installed."""

    def __init__(self) -> None:
        super().__init__("Graphviz's `dot` is not on PATH; install it (Debian: apt-get install graphviz)")


def _limit_output() -> None:  # runs in the child, before exec
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_SVG_BYTES, MAX_SVG_BYTES))


def as_svg(document: dict[str, Any], root: str | None = None) -> bytes:
    """The picture of a lineage document as SVG, `root` highlighted."""
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizMissing()
    with tempfile.TemporaryDirectory(prefix="kg-svg-") as work:
        target, errors = Path(work) / "lineage.svg", Path(work) / "errors.txt"
        command = [dot, "-Tsvg", "-o", str(target)]
        try:
            with errors.open("wb") as stderr:  # a file: bounded like the picture
                done = subprocess.run(
                    command,
                    input=as_dot(document, root).encode("utf-8"),
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    timeout=DOT_SECONDS,
                    preexec_fn=_limit_output,  # a CLI process: no threads to upset by forking
                    check=False,
                )
        except subprocess.TimeoutExpired:
            why = f"no picture after {DOT_SECONDS:.0f} s; ask for less --depth"
            raise CommandFailed(command, -1, why) from None
        if done.returncode != 0:
            raise CommandFailed(command, done.returncode, _why(done.returncode, errors))
        return target.read_bytes()


def _why(code: int, errors: Path) -> str:
    """One line: what went wrong, from the end of what `dot` said."""
    if code in (-25, 128 + 25):  # SIGXFSZ: the size limit
        return f"the picture outgrew {MAX_SVG_BYTES >> 20} MB; ask for less --depth"
    with errors.open("rb") as said:
        said.seek(max(0, errors.stat().st_size - 2000))
        lines = [line.strip() for line in said.read().decode("utf-8", "replace").splitlines()]
    return next((line for line in reversed(lines) if line), "no message")
