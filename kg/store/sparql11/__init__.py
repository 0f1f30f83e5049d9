"""Talking to a SPARQL server over the SPARQL 1.1 Protocol and Graph Store Protocol.

`client.SparqlClient` sends queries, updates and graphs; `servers` holds what differs
from one server to the next (endpoint layout, timeouts, how a cut-short answer looks,
query text a server accepts but kg must refuse), one small profile per server, each
backed by tests against the real server (tests/store/sparql11/). `store.RemoteStore` and
`reader.RemoteReader` are kg's `Store` and `Reader` on top of them.
"""

from __future__ import annotations

from kg.config import Settings
from kg.iri import Minter
from kg.store.base import Store
from kg.store.reading import Reader
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
    "client_for",
    "open_reader",
    "open_store",
]


def client_for(settings: Settings, *, read_timeout: float) -> SparqlClient:
    """A client for the server `KG_STORE_URL` names, as `KG_STORE_*` describe it."""
    profile = PROFILES[settings.store_server]
    found = profile.endpoints(settings.store_url)
    endpoints = Endpoints(
        query=found.query,
        update=settings.store_update_url or found.update,
        store=settings.store_graph_store_url or found.store,
    )
    credentials = (
        Credentials(settings.store_user, settings.store_password, settings.store_auth)
        if settings.store_user
        else None
    )
    return SparqlClient(endpoints, profile, credentials=credentials, timeouts=Timeouts(read=read_timeout))


def open_store(settings: Settings, read_only: bool) -> Store:
    """The writer of kg's graphs on the server (`read_only` changes nothing: the server
    takes any number of readers beside its writer)."""
    from kg.store.sparql11.store import RemoteStore

    client = client_for(settings, read_timeout=settings.store_write_timeout_seconds)
    return RemoteStore(client, Minter(settings.base_iri))


def open_reader(settings: Settings, serving: bool) -> Reader:
    """A reader of the server; queries run there, so none needs a process of kg's own."""
    from kg.store.sparql11.reader import RemoteReader

    # the server stops a query at its limit; kg waits a little longer for it to say so
    client = client_for(settings, read_timeout=settings.sparql_timeout_seconds + 5)
    return RemoteReader(
        client,
        Minter(settings.base_iri),
        timeout=settings.sparql_timeout_seconds,
        max_bytes=settings.sparql_max_result_bytes,
    )
