"""Project data for store tests."""

from __future__ import annotations

from pathlib import Path


def ntriples(path: Path, subject: str, count: int, *extra: str) -> Path:
    """`count` triples about `https://kg.test/<subject>/<i>`, then `extra` lines, in a file."""
    lines = [f'<https://kg.test/{subject}/{i}> <https://kg.test/p> "{i}" .\n' for i in range(count)]
    path.write_text("".join(lines + list(extra)))
    return path
