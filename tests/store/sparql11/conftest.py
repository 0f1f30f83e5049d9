"""Clients of real SPARQL servers (`oxigraph serve`, Virtuoso), as kg's remote store would
open them, and a few graphs of test data on each."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from kg.store.sparql11 import OXIGRAPH, VIRTUOSO, Credentials, ServerProfile, SparqlClient, Timeouts
from tests.fixtures.sparqlservers import OxigraphServer, VirtuosoServer

JSON = "application/sparql-results+json"
MB = 1024 * 1024
FAST = Timeouts(connect=2, read=60, attempts=3, backoff=0.2)


@dataclass
class Target:
    """One server and a client for it, as kg's remote store would open it."""

    name: str
    server: OxigraphServer | VirtuosoServer
    profile: ServerProfile
    client: SparqlClient


def open_client(
    server: OxigraphServer | VirtuosoServer, timeouts: Timeouts = FAST, **changes: Any
) -> SparqlClient:
    """A client with the settings kg would use for `server` (`changes` to its profile)."""
    if isinstance(server, VirtuosoServer):
        credentials = Credentials(server.WRITER, SecretStr(server.writer_password), scheme="digest")
        profile = dataclasses.replace(VIRTUOSO, **changes)
        return SparqlClient(
            VIRTUOSO.endpoints(server.url), profile, credentials=credentials, timeouts=timeouts
        )
    profile = dataclasses.replace(OXIGRAPH, **changes)
    return SparqlClient(OXIGRAPH.endpoints(server.url), profile, timeouts=timeouts)


@pytest.fixture(params=["oxigraph", "virtuoso"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """Each real server in turn, with a client for it."""
    server = request.getfixturevalue(f"{request.param}_server")
    profile = VIRTUOSO if request.param == "virtuoso" else OXIGRAPH
    client = open_client(server)
    yield Target(request.param, server, profile, client)
    client.close()


@pytest.fixture
def graph_iri() -> str:
    """A graph IRI no other test uses (the servers are shared by the session)."""
    return f"urn:kg-test:{uuid.uuid4()}"


def ntriples(tmp_path: Path, lines: list[str]) -> Path:
    """A file of N-Triples."""
    path = tmp_path / f"{uuid.uuid4()}.nt"
    path.write_text("".join(line + "\n" for line in lines))
    return path


def values(answer: Any) -> list[tuple[str, ...]]:
    """The bindings of a SPARQL JSON answer as sorted tuples of values."""
    import json

    doc = json.loads(answer.body)
    names = doc["head"]["vars"]
    return sorted(tuple(b[n]["value"] for n in names if n in b) for b in doc["results"]["bindings"])
