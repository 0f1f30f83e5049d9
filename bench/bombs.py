"""Hostile repository content: time and peak memory of extracting each bomb scenario.

Builds every repository of `tests/fixtures/bombs.py` (one bomb beside a good file, after
plain history) and extracts it in a child process with a memory and time limit, with the
`kg` of this tree or of another checkout (to compare with an older commit):

    python bench/bombs.py [--kg-root PATH] [--seconds 120] [--memory-gb 8] [names...]

Prints, per scenario: how the child ended, wall seconds, peak RSS, warnings.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.extract.helpers import extract_in_child  # noqa: E402
from tests.fixtures.bombs import SCENARIOS, build  # noqa: E402
from tests.fixtures.gitrepo import make_repo  # noqa: E402


def _short(path: str | None) -> str:
    return "(commit)" if path is None else path if len(path) <= 40 else path[:18] + "..." + path[-18:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kg-root", type=Path, default=ROOT)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--memory-gb", type=float, default=8)
    parser.add_argument("names", nargs="*", default=list(SCENARIOS))
    args = parser.parse_args()
    print(f"kg from {args.kg_root}; limits {args.seconds:.0f} s, {args.memory_gb:g} GB address space")
    print(f"{'scenario':18} {'ended':>14} {'seconds':>8} {'peak MB':>8}  warnings")
    for name in args.names:
        with tempfile.TemporaryDirectory() as tmp:
            repo = build(name, make_repo(Path(tmp) / "repo"))
            m = extract_in_child(
                repo.path, kg_root=args.kg_root, seconds=args.seconds, memory=int(args.memory_gb * 1024**3)
            )
        if m.returncode is None:
            ended = "time limit"
        elif m.returncode == 0:
            ended = "ok"
        elif m.returncode < 0:
            ended = f"signal {-m.returncode}"
        else:
            ended = "MemoryError" if "MemoryError" in m.stderr else f"exit {m.returncode}"
        notes = "; ".join(f"[{w.source}] {_short(w.path)}: {w.reason[:90]}" for w in m.warnings) or "-"
        print(f"{name:18} {ended:>14} {m.seconds:8.2f} {m.peak_mb:8.0f}  {notes}", flush=True)


if __name__ == "__main__":
    main()
