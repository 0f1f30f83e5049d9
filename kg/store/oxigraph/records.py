"""Opening the on-disk pyoxigraph store and reading it with kg's named queries."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kg import queries
from kg.errors import StoreBusy
from kg.store.base import ProjectRecord
from kg.store.reading import Bindings
from kg.store.records import from_rows


def open_oxigraph(path: Path, *, read_only: bool) -> ox.Store:
    """Open the on-disk store, turning a lock held by another process into `StoreBusy`."""
    try:
        if read_only:
            return ox.Store.read_only(str(path))
        path.mkdir(parents=True, exist_ok=True)
        return ox.Store(str(path))
    except OSError as exc:
        if "lock" in str(exc).lower():
            raise StoreBusy(
                f"the store at {path} is open read-write by another process (is `kg serve` running?)"
            ) from exc
        raise


def select(store: ox.Store, name: str, bindings: Bindings) -> list[dict[str, str]]:
    """Run a named SELECT on an open pyoxigraph store; rows of plain values."""
    result = store.query(queries.load(name), substitutions={ox.Variable(k): v for k, v in bindings.items()})
    assert isinstance(result, ox.QuerySolutions)
    names = [v.value for v in result.variables]
    return [{n: str(s[n].value) for n in names if s[n] is not None} for s in result]


def stored_records(store: ox.Store, base: str) -> list[ProjectRecord]:
    """Every project's record below `base`, from the description graphs of an open store."""
    bound = {"base": ox.NamedNode(base)}
    return from_rows(select(store, "projects.rq", bound), select(store, "project_members.rq", bound))
