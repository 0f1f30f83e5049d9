"""Read-only checkpoints of the embedded store, which readers in other processes open.

Only one process may open the store read-write, and RocksDB does not support opening a
database read-only while another process writes it (files vanish under the reader). So
every publish ends with a checkpoint (`Store.backup`: hard links, about 10 ms) into
`<store>.snapshots/`, and the version file next to the store names the newest one.
Readers open that checkpoint read-only: nobody writes it, and it only ever holds states
at publish boundaries. Superseded checkpoints are pruned after `RETENTION_SECONDS`, long
enough for any query still reading one to finish.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import os
import shutil
import time
from pathlib import Path

import pyoxigraph as ox

from kg.store.base import ProjectRecord

log = logging.getLogger("kg.store")
RETENTION_SECONDS = 600.0
_KEEP = 2
MAX_CHECKPOINTS = 12
"""Checkpoints kept whatever their age: each holds a copy of the store's MANIFEST and of every
record (16 MB + 1 MB at 2,000 projects), so publishing thousands of projects within
`RETENTION_SECONDS` filled 18 GB for a 54 MB store. A reader on a pruned one reopens the newest."""


def version_file(path: Path) -> Path:
    """The file naming the newest read-only checkpoint of the store at `path`."""
    return path.with_name(path.name + ".version")


def snapshots_dir(path: Path) -> Path:
    """Where the read-only checkpoints of the store at `path` live."""
    return path.with_name(path.name + ".snapshots")


def newest_snapshot(path: Path) -> Path | None:
    """The checkpoint readers should open now, or None if nothing was published yet."""
    try:
        name = version_file(path).read_text().strip()
    except FileNotFoundError:
        return None
    return snapshots_dir(path) / name if name else None


def snapshots_newest_first(path: Path) -> list[Path]:
    """Every checkpoint of the store at `path`, the one the version file names first."""
    named = newest_snapshot(path)
    root = snapshots_dir(path)
    try:
        found = sorted((p for p in root.iterdir() if p.name.isdigit()), key=lambda p: -int(p.name))
    except FileNotFoundError:
        found = []
    return ([named] if named else []) + [p for p in found if p != named]


def records_file(snapshot: Path) -> Path:
    """The project records of a checkpoint, as JSON, written beside it."""
    return snapshot.with_name(snapshot.name + ".records.json")


def read_records(snapshot: Path) -> list[ProjectRecord] | None:
    """The records written with a checkpoint, or None if it has none (an older kg) or they
    do not read back (a damaged file): readers then read them from the checkpoint itself."""
    try:
        rows = json.loads(records_file(snapshot).read_text())
        return [
            ProjectRecord(**{**row, "members": tuple((u, level) for u, level in row["members"])})
            for row in rows
        ]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError):
        log.warning(
            "records beside a checkpoint do not read; reading them from it", extra={"at": snapshot.name}
        )
        return None


def write_checkpoint(store: ox.Store, path: Path, projects: list[ProjectRecord]) -> None:
    """Checkpoint the store opened read-write at `path` with its project records (which
    readers would need seconds to query at 10,000 projects), and make readers switch to it."""
    root = snapshots_dir(path)
    root.mkdir(exist_ok=True)
    name = str(time.time_ns())
    store.backup(str(root / name))
    records_file(root / name).write_text(json.dumps([dataclasses.asdict(r) for r in projects]))
    target = version_file(path)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(name)
    os.replace(tmp, target)
    _prune(root)


def _prune(root: Path) -> None:
    names = sorted((p.name for p in root.iterdir() if p.name.isdigit()), key=int)
    now = time.time_ns()
    too_many = max(0, len(names) - MAX_CHECKPOINTS)
    for i, (older, newer) in enumerate(itertools.pairwise(names[: 1 - _KEEP])):
        if i < too_many or now - int(newer) > RETENTION_SECONDS * 1e9:
            records_file(root / older).unlink(missing_ok=True)
            shutil.rmtree(root / older, ignore_errors=True)
