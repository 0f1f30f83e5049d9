"""Extraction benchmark: the cost of the tool extractors, and lineage over a long chain.

1. A synthetic repository of 10,000 commits of which 1,000 record tool runs (500 DVC lock
   updates, 500 DataLad run records), built with git fast-import, is ingested twice as a
   whole process: with git history only (`KG_EXTRACTORS=none`) and with every extractor.
   Prints seconds and triples/s side by side and the ratio.
2. A chain of 1,000 DataLad runs (each using the previous one's output) is ingested, and
   lineage of its last file is computed with unlimited depth, upstream (and downstream of
   its first file); prints the medians.

    python bench/extract.py [--commits 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.config import Settings  # noqa: E402
from kg.lineage import lineage  # noqa: E402
from kg.store import open_reader  # noqa: E402


def _commit(out: list[bytes], n: int, message: str, files: dict[str, str]) -> None:
    when = 1_600_000_000 + n * 60
    out.append(b"commit refs/heads/main\nmark :%d\n" % n)
    ident = f"Bench Person <bench@example.org> {when} +0000\n".encode()
    out.append(b"author " + ident + b"committer " + ident)
    data = message.encode()
    out.append(b"data %d\n%s\n" % (len(data), data))
    if n > 1:
        out.append(b"from :%d\n" % (n - 1))
    for path, content in files.items():
        blob = content.encode()
        out.append(f'M 100644 inline "{path}"\n'.encode() + b"data %d\n%s\n" % (len(blob), blob))
    out.append(b"\n")


def datalad_message(cmd: str, inputs: list[str], outputs: list[str]) -> str:
    record = {"cmd": cmd, "inputs": inputs, "outputs": outputs, "pwd": ".", "exit": 0, "chain": []}
    return (
        f"[DATALAD RUNCMD] {cmd}\n\n=== Do not change lines below ===\n"
        f"{json.dumps(record, indent=1)}\n^^^ Do not change lines above ^^^\n"
    )


def tool_repo(path: Path, commits: int) -> int:
    """10 % of the commits record a run: DVC lock updates and DataLad records, alternating."""
    out: list[bytes] = []
    runs = 0
    for n in range(1, commits + 1):
        if n % 10 == 0 and (n // 10) % 2 == 0:
            data = f"data {n}\n"
            lock = (
                f"schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n    deps:\n"
                f"    - path: data/train.csv\n      md5: {hashlib.md5(data.encode()).hexdigest()}\n"
                f"    outs:\n    - path: model.pkl\n      md5: {hashlib.md5(str(n).encode()).hexdigest()}\n"
            )
            _commit(out, n, f"dvc repro {n}", {"data/train.csv": data, "dvc.lock": lock})
            runs += 1
        elif n % 10 == 0:
            k = n // 10
            _commit(
                out,
                n,
                datalad_message(f"python step.py {k}", [f"data/in_{k % 50}.csv"], [f"results/out_{k}.csv"]),
                {f"results/out_{k}.csv": f"{k}\n"},
            )
            runs += 1
        else:
            _commit(
                out,
                n,
                f"edit {n}",
                {f"data/in_{n % 50}.csv": f"{n}\n", f"src/m{n % 20}.py": f"# {n}\n"},
            )
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=b"".join(out), check=True)
    return runs


def chain_repo(path: Path, steps: int) -> None:
    out: list[bytes] = []
    _commit(out, 1, "start", {"chain/step_0.txt": "0\n"})
    for i in range(1, steps + 1):
        _commit(
            out,
            i + 1,
            datalad_message(f"python step.py {i}", [f"chain/step_{i - 1}.txt"], [f"chain/step_{i}.txt"]),
            {f"chain/step_{i}.txt": f"{i}\n"},
        )
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=b"".join(out), check=True)


def ingest(repo: Path, data: Path, extractors: str) -> tuple[float, int]:
    env = {**os.environ, "KG_DATA_DIR": str(data), "KG_EXTRACTORS": extractors}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "kg", "ingest", str(repo), "--project", "bench/x"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    triples = int(done.stdout.split(" triples")[0].rsplit(" ", 1)[-1])
    return seconds, triples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--chain", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kg-bench-extract-"))
    try:
        runs = tool_repo(work / "tools.git", args.commits)
        print(f"repository: {args.commits} commits, {runs} tool runs")
        git_only, full = [], []
        for run in range(args.runs):
            git_only.append(ingest(work / "tools.git", work / f"git{run}", "none"))
            full.append(ingest(work / "tools.git", work / f"all{run}", "all"))
            shutil.rmtree(work / f"git{run}")
            shutil.rmtree(work / f"all{run}")
        g = statistics.median(s for s, _ in git_only)
        a = statistics.median(s for s, _ in full)
        gt, at = git_only[0][1], full[0][1]
        print(f"\nmedians of {args.runs} ingests (whole process)")
        print(f"  git history only   {g:7.2f} s  {gt:8d} triples  {gt / g:9.0f} triples/s")
        print(f"  all extractors     {a:7.2f} s  {at:8d} triples  {at / a:9.0f} triples/s")
        print(f"  all / git-only     {a / g:7.2f}x time, {at / gt:.2f}x triples")

        chain_repo(work / "chain.git", args.chain)
        ingest(work / "chain.git", work / "chain", "all")
        settings = Settings(data_dir=work / "chain")
        reader = open_reader(settings)
        graphs = {r.slug: r.graph for r in reader.records() if r.graph}
        timings: dict[str, list[float]] = {"upstream": [], "downstream": []}
        for _ in range(5):
            for direction, path in (
                ("upstream", f"chain/step_{args.chain}.txt"),
                ("downstream", "chain/step_0.txt"),
            ):
                started = time.perf_counter()
                doc = lineage(reader, graphs, "bench/x", path, direction=direction)  # type: ignore[arg-type]
                timings[direction].append(time.perf_counter() - started)
                steps = sum(1 for n in doc["nodes"] if n["type"] == "ProcessRun")
                assert steps == args.chain, steps
        print(f"\nlineage over a {args.chain}-step chain, depth unlimited (median of 5, in-process):")
        for direction, values in timings.items():
            print(
                f"  {direction:10} {statistics.median(values) * 1000:8.1f} ms  ({args.chain} runs, {2 * args.chain + 1} nodes)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
