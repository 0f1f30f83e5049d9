"""What differs between SPARQL servers, one profile each, as measured in tests/store/sparql11/.

A profile says where a server's endpoints are, given `KG_STORE_URL`; how a query's time
limit is passed; how an answer the server cut short looks (several answer 200 and stop
mid-document); which failures are worth retrying; and which query text the server would
accept but kg must refuse before sending it.

Measured (Oxigraph server 0.5.13, Virtuoso 7.2.5): see the facts tests for each claim.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from kg.errors import InvalidInput, QueryError, QuerySyntaxError, QueryTimeout, QueryTooLarge
from kg.sparql.dataset import _STRICT, _TOKEN, _tokens, scan

TRANSIENT = frozenset({502, 503, 504})
"""Statuses that say "not now" rather than "not this": a proxy or a restarting server."""


@dataclass(frozen=True)
class Endpoints:
    """The three URLs kg talks to."""

    query: str
    update: str
    store: str
    """The Graph Store Protocol endpoint; a graph is named by its `graph` parameter."""

    @property
    def origin(self) -> str:
        """scheme://host:port, the only part of a URL kg puts in messages."""
        parts = urlsplit(self.query)
        return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def _check_nothing(headers: Mapping[str, str], tail: bytes) -> None:
    """For servers whose complete and cut-short answers look alike to kg."""


def _refuse_nothing(query: str) -> None:
    """For servers with no extensions kg knows of."""


def _no_timeout(seconds: float) -> tuple[dict[str, str], dict[str, str]]:
    return {}, {}


@dataclass(frozen=True)
class ServerProfile:
    """How kg talks to one kind of SPARQL server."""

    name: str
    endpoints: Callable[[str], Endpoints]
    """Endpoints from `KG_STORE_URL` (settings may replace update and store)."""
    timeout: Callable[[float], tuple[dict[str, str], dict[str, str]]] = _no_timeout
    """(query parameters, headers) asking the server to stop after that many seconds."""
    check_answer: Callable[[Mapping[str, str], bytes], None] = _check_nothing
    """Raise if a 200 answer (its headers, its last bytes) was cut short by the server."""
    refuse: Callable[[str], None] = _refuse_nothing
    """Raise `InvalidInput` for query text this server would run in ways kg must not allow."""
    overrides_dataset: bool = True
    """Whether `default-graph-uri`/`named-graph-uri` replace a query's FROM / FROM NAMED
    (SPARQL 1.1 Protocol 2.1.4); where not, see `dataset_within`."""
    retry_statuses: frozenset[int] = field(default=TRANSIENT)
    retry_codes: tuple[str, ...] = ()
    """Error codes in a failure's text that say "rolled back, try again" (a deadlock)."""
    upload_bytes: int | None = None
    """Largest Graph Store upload in one request (None: any); larger files go in parts."""
    upload_params: tuple[tuple[str, str], ...] = ()
    """Query parameters of a Graph Store upload (kg uploads only into graphs no reader is
    given, or while the project's own graphs are listed, so it needs no transaction)."""
    tested: bool = True
    """Whether tests run this profile against the real server."""


# ---- Oxigraph server (`oxigraph serve`) -----------------------------------------------


def _oxigraph_endpoints(url: str) -> Endpoints:
    """
    >>> _oxigraph_endpoints("http://127.0.0.1:7878/").store
    'http://127.0.0.1:7878/store'
    """
    base = url.rstrip("/")
    return Endpoints(query=f"{base}/query", update=f"{base}/update", store=f"{base}/store")


_OXIGRAPH_CANCELLED = b"The SPARQL operation has been cancelled"


def _oxigraph_check(headers: Mapping[str, str], tail: bytes) -> None:
    # `--timeout-s` firing mid-answer keeps the 200 and appends this text to what was sent
    if _OXIGRAPH_CANCELLED in tail:
        raise QueryTimeout("the store stopped the query at its time limit (oxigraph serve --timeout-s)")
    _check_complete(headers, tail)


OXIGRAPH = ServerProfile(
    name="oxigraph",
    endpoints=_oxigraph_endpoints,
    check_answer=_oxigraph_check,
    # its bulk loader instead of one in-memory transaction: 300,000 triples 7.0 s -> 3.6 s
    upload_params=(("no_transaction", ""),),
)
"""`oxigraph serve`: `KG_STORE_URL` is its base URL. The time limit is the server's own
`--timeout-s` (there is no per-query parameter); it honours the protocol's dataset
parameters; it calls SERVICE endpoints itself, so kg refuses SERVICE before sending."""


# ---- Virtuoso 7.2 ----------------------------------------------------------------------


def _virtuoso_endpoints(url: str) -> Endpoints:
    """
    >>> e = _virtuoso_endpoints("http://db:8890/sparql")
    >>> e.update, e.store, e.origin
    ('http://db:8890/sparql-auth', 'http://db:8890/sparql-graph-crud-auth', 'http://db:8890')
    """
    # `KG_STORE_URL` is the anonymous query endpoint, http://HOST:8890/sparql; writes need
    # the authenticated twins (digest auth: Virtuoso answers basic auth there with 401).
    origin = url.rstrip("/").removesuffix("/sparql")
    return Endpoints(query=url, update=f"{origin}/sparql-auth", store=f"{origin}/sparql-graph-crud-auth")


def _virtuoso_timeout(seconds: float) -> tuple[dict[str, str], dict[str, str]]:
    return {"timeout": str(max(1, round(seconds * 1000)))}, {}


def _virtuoso_check(headers: Mapping[str, str], tail: bytes) -> None:
    # An "anytime" query past its `timeout` answers 200 with what it had (often nothing),
    # saying so only in X-SQL-State; past ResultSetMaxRows it truncates and names the cap.
    if headers.get("x-sql-state", "").upper() == "S1TAT":
        raise QueryTimeout("the store stopped the query at its time limit; its partial answer is dropped")
    if "x-sparql-maxrows" in headers:
        raise QueryTooLarge(f"the store cut the answer at its row cap ({headers['x-sparql-maxrows']} rows)")
    _check_complete(headers, tail)


_VIRTUOSO_PREFIXES = ("bif:", "sql:")
"""Virtuoso's built-in function namespaces: `bif:http_get`, `<bif:http_get>` and a prefix
bound to `<bif:>` all fetch URLs even for the anonymous user (measured), so neither
namespace may appear in a caller's query. DEFINE pragmas that fetch (get:soft,
input:grab-all) fail for that user today; they are refused anyway, as a grant away."""


def _virtuoso_refuse(query: str) -> None:
    for grammar in (_TOKEN, _STRICT):  # either reading of `<`: see kg.sparql.dataset
        for kind, text in _tokens(query, grammar):
            lowered = text.lower()
            if kind == "word" and lowered == "define":
                raise InvalidInput("DEFINE pragmas are not allowed", field="query")
            if lowered.lstrip("<").startswith(_VIRTUOSO_PREFIXES) or "openlinksw.com/schemas/bif#" in lowered:
                raise InvalidInput("Virtuoso built-in functions (bif:, sql:) are not allowed", field="query")


VIRTUOSO = ServerProfile(
    name="virtuoso",
    endpoints=_virtuoso_endpoints,
    timeout=_virtuoso_timeout,
    check_answer=_virtuoso_check,
    refuse=_virtuoso_refuse,
    overrides_dataset=False,
    # SR172 "Transaction deadlocked" (SQL state 40001) on a 35 MB upload; a 140 MB one stalled
    retry_codes=("SR172", "40001"),
    upload_bytes=8 * 1024 * 1024,
)
"""Virtuoso 7.2: `KG_STORE_URL` is `http://HOST:8890/sparql`; writes as a user granted
SPARQL_UPDATE and graph write permission, over digest auth."""


# ---- Apache Jena Fuseki (from its documentation; untested) ----------------------------


def _fuseki_endpoints(url: str) -> Endpoints:
    """
    >>> e = _fuseki_endpoints("http://fuseki:3030/renku")
    >>> e.query, e.update, e.store
    ('http://fuseki:3030/renku/query', 'http://fuseki:3030/renku/update', 'http://fuseki:3030/renku/data')
    """
    # `KG_STORE_URL` is the dataset URL, http://HOST:3030/DATASET
    base = url.rstrip("/")
    return Endpoints(query=f"{base}/query", update=f"{base}/update", store=f"{base}/data")


def _fuseki_timeout(seconds: float) -> tuple[dict[str, str], dict[str, str]]:
    # Fuseki takes `timeout` in seconds where its configuration allows the override
    return {"timeout": f"{seconds:g}"}, {}


FUSEKI = ServerProfile(
    name="fuseki",
    endpoints=_fuseki_endpoints,
    timeout=_fuseki_timeout,
    # Fuseki answers a query that ran out of time with 503: not worth retrying
    retry_statuses=frozenset({502, 504}),
    tested=False,
)
"""Apache Jena Fuseki, from its documentation only: NOT tested (no server here)."""


PROFILES: dict[str, ServerProfile] = {p.name: p for p in (OXIGRAPH, VIRTUOSO, FUSEKI)}


# ---- shared --------------------------------------------------------------------------

_CLOSINGS = {
    "application/sparql-results+json": b"}",
    "application/json": b"}",
    "application/sparql-results+xml": b"</sparql>",
}


def _check_complete(headers: Mapping[str, str], tail: bytes) -> None:
    """Raise if a JSON or XML answer does not end as such a document ends (a server that
    failed mid-answer after sending 200). CSV, TSV and line-based RDF have no end mark."""
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    closing = _CLOSINGS.get(media_type)
    if closing is not None and not tail.rstrip().endswith(closing):
        raise QueryError("the store's answer was cut short (it failed after it started answering)")


def dataset_within(query: str, default: Sequence[str], named: Sequence[str]) -> None:
    """Refuse a query whose FROM / FROM NAMED name a graph outside the lists sent with it.

    For servers that add a query's dataset clauses to the protocol's graphs instead of
    being overridden by them (Virtuoso): the union is then the lists themselves. A clause
    kg cannot resolve (a prefix only the server knows) counts as outside.

    >>> dataset_within("SELECT * FROM <urn:a> { ?s ?p ?o }", ["urn:a", "urn:b"], [])
    >>> dataset_within("SELECT * FROM foaf:x { ?s ?p ?o }", ["urn:a"], [])
    Traceback (most recent call last):
    ...
    kg.errors.InvalidInput: FROM and FROM NAMED may only name graphs you may read
    """
    found = scan(query)[1]
    clauses = max(
        sum(1 for kind, text in _tokens(query, grammar) if kind == "word" and text.upper() == "FROM")
        for grammar in (_TOKEN, _STRICT)
    )
    resolved = len(found.default) + len(found.named)
    if clauses != resolved or not (set(found.default) <= set(default) and set(found.named) <= set(named)):
        raise InvalidInput("FROM and FROM NAMED may only name graphs you may read", field="query")


def classify_failure(status: int, message: str) -> QueryError:
    """The typed error for a query the server refused or failed (not a transient status)."""
    lowered = message.lower()
    if "timed out" in lowered or "estimated execution time" in lowered:
        return QueryTimeout(f"the store stopped the query at its time limit: {message}")
    if status == 400:
        return QuerySyntaxError(message)
    return QueryError(f"the store could not answer (HTTP {status}): {message}")
