"""Ingest benchmark: kg ingest vs. the unavoidable cost of reading git and writing the store.

Builds a synthetic repository with 20,000 commits (git fast-import), then times, in the same
run and on the same repository:

  (a) `git log --raw -z --numstat` over it, to /dev/null;
  (b) pyoxigraph `bulk_load` of as many N-Triples as kg produces for it, into a fresh store,
      as a whole process (and, for reference, split in chunks as kg does);
  (c) `kg ingest` of it into a fresh store, as a whole process, with its peak memory. kg
      loads every triple twice: into the project's graph and, side by side on a second
      thread, into its audience graph (see kg/store/audiences.py).

Prints the medians and the ratio c / (a + b). Target: <= 1.5, peak memory < 500 MB.
Beside wall-clock time it prints CPU time (user + system, the process and its children):
on a machine other work keeps busy, kg's second core is not free and wall-clock ratios
move with the load, which it also prints; CPU time does not.

    python bench/ingest.py [--commits 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.store.oxigraph import BULK_CHUNK_BYTES  # noqa: E402
from tests.fixtures.synthetic import synthetic_repo  # noqa: E402

# Runs a command and prints its wall-clock seconds and peak memory (KiB): in a process of
# its own, so that the peak is the command's and not the bulk loads' run before it.
PEAK = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); subprocess.run(sys.argv[1:], "
    "check=True, stdout=subprocess.DEVNULL); t = time.perf_counter() - t; "
    "print(t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)
BULK = (
    "import pyoxigraph as ox, sys; s = ox.Store(sys.argv[1]); "
    "s.bulk_load(path=sys.argv[2], format=ox.RdfFormat.N_TRIPLES, "
    "to_graph=ox.NamedNode('https://kg.local/g'))"
)
BULK_CHUNKED = (
    "import pyoxigraph as ox, sys\n"
    "s = ox.Store(sys.argv[1]); g = ox.NamedNode('https://kg.local/g'); rest = b''\n"
    "with open(sys.argv[2], 'rb') as f:\n"
    f"    while block := f.read({BULK_CHUNK_BYTES}):\n"
    "        block, _, rest = (rest + block).rpartition(b'\\n')\n"
    "        s.bulk_load(block + b'\\n', ox.RdfFormat.N_TRIPLES, to_graph=g)\n"
    "if rest.strip(): s.bulk_load(rest, ox.RdfFormat.N_TRIPLES, to_graph=g)\n"
)


def children_cpu() -> float:
    """CPU seconds (user + system) of the child processes waited for so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(command: list[str], **kwargs: object) -> tuple[float, float]:
    """Wall-clock and CPU seconds of a command."""
    cpu = children_cpu()
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - started, children_cpu() - cpu


def load() -> str:
    """The machine's load averages (1, 5, 15 min) against its cores."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cores"


def kg_ntriples(repo: Path, out: Path) -> int:
    """Write exactly the N-Triples kg writes for the repository; returns the count."""
    from kg.extract.context import BlobReader, Context
    from kg.extract.tools import tool_extractors
    from kg.extract.walk import walk
    from kg.iri import Minter

    minter = Minter("https://kg.local/")
    with out.open("w", encoding="utf-8") as f:
        ctx = Context(minter, minter.project("bench/synthetic"), repo, f, BlobReader(repo))
        walk(ctx, ["main"], tool_extractors())
        ctx.blobs.close()
    return ctx.stats.triples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    kg = [sys.executable, "-m", "kg"]
    work = Path(tempfile.mkdtemp(prefix="kg-bench-ingest-"))
    try:
        started = time.perf_counter()
        repo = synthetic_repo(work / "synthetic.git", args.commits, seed=42)
        print(f"repository: {args.commits} commits, built in {time.perf_counter() - started:.1f} s")
        nt = work / "kg.nt"
        triples = kg_ntriples(repo, nt)
        print(f"kg writes {triples} triples ({nt.stat().st_size / 2**20:.0f} MiB of N-Triples)")

        print(load())
        a, b, b_chunked, c, peaks = [], [], [], [], []
        for run in range(args.runs):
            with open(os.devnull, "wb") as null:
                a.append(timed(["git", "-C", str(repo), "log", "--raw", "-z", "--numstat", "main"],
                               stderr=null))  # fmt: skip
            b.append(timed([sys.executable, "-c", BULK, str(work / f"bulk{run}"), str(nt)]))
            b_chunked.append(timed([sys.executable, "-c", BULK_CHUNKED, str(work / f"chunk{run}"), str(nt)]))
            env = {**os.environ, "KG_DATA_DIR": str(work / f"kg{run}")}
            cpu = children_cpu()
            seconds, peak = subprocess.run(
                [sys.executable, "-c", PEAK, *kg, "ingest", str(repo), "--project", "bench/s"],
                env=env, check=True, capture_output=True, text=True,
            ).stdout.split()  # fmt: skip
            c.append((float(seconds), children_cpu() - cpu))
            peaks.append(int(peak) / 1024)
            for name in (f"bulk{run}", f"chunk{run}", f"kg{run}"):
                shutil.rmtree(work / name, ignore_errors=True)
        print(load())

        def med(runs: list[tuple[float, float]], cpu: bool = False) -> float:
            return statistics.median(r[cpu] for r in runs)

        print(f"\nmedians of {args.runs} runs                    wall        CPU")
        print(f"  (a) git log --raw -z --numstat        {med(a):7.2f} s  {med(a, True):7.2f} s")
        print(f"  (b) bulk_load, one call (process)     {med(b):7.2f} s  {med(b, True):7.2f} s  "
              f"{triples / med(b):9.0f} triples/s")  # fmt: skip
        print(f"      bulk_load, {BULK_CHUNK_BYTES >> 20} MB chunks (process) "
              f"{med(b_chunked):7.2f} s  {med(b_chunked, True):7.2f} s")  # fmt: skip
        print(f"  (c) kg ingest (process)               {med(c):7.2f} s  {med(c, True):7.2f} s  "
              f"{triples / med(c):9.0f} triples/s, peak {max(peaks):.0f} MB")  # fmt: skip
        print(f"\n  c / (a + b)                 = {med(c) / (med(a) + med(b)):.2f}   (target <= 1.5)")
        print(f"  c / (a + b chunked)         = {med(c) / (med(a) + med(b_chunked)):.2f}")
        print(f"  CPU: c / (a + b)            = {med(c, True) / (med(a, True) + med(b, True)):.2f}")
        print(f"  peak memory of kg ingest    = {max(peaks):.0f} MB (target < 500)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
