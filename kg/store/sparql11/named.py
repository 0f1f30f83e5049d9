"""kg's own named queries (`queries/`) on a SPARQL server: values bound as VALUES, answers
read as rows of plain values, as `select` reads them in the embedded store."""

from __future__ import annotations

import json

import pyoxigraph as ox

from kg import queries
from kg.errors import QueryError
from kg.store.base import Bindings, ProjectRecord
from kg.store.records import from_rows
from kg.store.sparql11.binding import bind
from kg.store.sparql11.client import SparqlClient

_JSON = "application/sparql-results+json"
MAX_ROWS_BYTES = 1 << 30
"""What kg's own queries may bring back (a 20,000-commit project's runs are ~100 MB)."""


class NamedSelects:
    """Runs `queries/*.rq` (the server's own variant where one exists) with bound values."""

    def __init__(self, client: SparqlClient) -> None:
        self.client = client

    def text(self, name: str) -> str:
        """The query as this server should be sent it."""
        return queries.load_variant(self.client.profile.name, name)

    def select(self, name: str, bindings: Bindings) -> list[dict[str, str]]:
        """Rows of plain values (IRIs, lexical forms, blank node ids)."""
        answer = self.client.query(
            bind(self.text(name), bindings), accept=_JSON, max_bytes=MAX_ROWS_BYTES, trusted=True
        )
        try:
            document = json.loads(answer.body)
            return [{k: v["value"] for k, v in row.items()} for row in document["results"]["bindings"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise QueryError(f"the store answered {name} with something that is not SPARQL JSON") from exc

    def any(self, name: str, bindings: Bindings) -> bool:
        """Whether a named SELECT finds anything (not an ASK: see graph_exists.rq)."""
        return bool(self.select(name, bindings))

    def records(self, base: str) -> list[ProjectRecord]:
        """Every project's record below `base`, from the description graphs."""
        bound = {"base": ox.NamedNode(base)}
        return from_rows(self.select("projects.rq", bound), self.select("project_members.rq", bound))

    def ping(self) -> None:
        """Raise `StoreUnavailable` unless the server answers a trivial query."""
        self.client.query("ASK {}", accept=_JSON, max_bytes=4096, trusted=True)
