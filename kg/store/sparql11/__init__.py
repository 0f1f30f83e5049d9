"""Talking to a SPARQL server over the SPARQL 1.1 Protocol and Graph Store Protocol.

`client.SparqlClient` sends queries, updates and graphs; `servers` holds what differs
from one server to the next (endpoint layout, timeouts, how a cut-short answer looks,
query text a server accepts but kg must refuse), one small profile per server, each
backed by tests against the real server (tests/store/sparql11/).
"""

from __future__ import annotations

from kg.store.sparql11.client import Answer, Credentials, SparqlClient, Timeouts
from kg.store.sparql11.servers import FUSEKI, OXIGRAPH, PROFILES, VIRTUOSO, Endpoints, ServerProfile

__all__ = [
    "FUSEKI",
    "OXIGRAPH",
    "PROFILES",
    "VIRTUOSO",
    "Answer",
    "Credentials",
    "Endpoints",
    "ServerProfile",
    "SparqlClient",
    "Timeouts",
]
