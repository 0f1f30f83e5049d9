"""A SPARQL 1.1 Protocol and Graph Store Protocol client over one pooled httpx client.

Retries, with backoff, only what says "not now": a refused connection, a connection
closed or reset by a server going away, and the profile's transient statuses (502/503/504). A query
the server rejects or fails is never retried. Credentials go in the auth header only:
no message, exception or log line carries them, nor a URL beyond its origin.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr

from kg.errors import QueryError, QueryTimeout, QueryTooLarge, StoreUnavailable
from kg.sparql.dataset import read_only
from kg.store.sparql11.servers import Endpoints, ServerProfile, classify_failure, dataset_within

log = logging.getLogger("kg.store.sparql11")
_T = TypeVar("_T")

MAX_MESSAGE = 500
"""Characters of a server's error message kg passes on."""
_TAIL = 4096
"""Last bytes of an answer kept to tell a complete answer from a cut-short one."""
NO_GRAPH = "urn:kg:no-graph"
"""Stands for an empty graph list; kg never writes to it."""
_GET_LIMIT = 2000
"""Longer queries go as a POST form (URLs past ~2-8 KB are refused by servers and proxies)."""


@dataclass(frozen=True)
class Credentials:
    """Who kg is to the store. `repr` and `str` never show the password."""

    user: str
    password: SecretStr
    scheme: Literal["basic", "digest"] = "basic"
    for_queries: bool = False
    """Whether queries need them too (Virtuoso's /sparql and oxigraph serve do not)."""

    def auth(self) -> httpx.Auth:
        """The httpx auth for these credentials."""
        secret = self.password.get_secret_value()
        if self.scheme == "digest":
            return httpx.DigestAuth(self.user, secret)
        return httpx.BasicAuth(self.user, secret)


@dataclass(frozen=True)
class Timeouts:
    """How long kg waits, and how often it tries again."""

    connect: float = 5.0
    read: float = 60.0
    """Between two bytes of an answer; a query's own time limit is passed to the server."""
    attempts: int = 4
    backoff: float = 0.5
    """Seconds before the second attempt; doubled for each one after."""


@dataclass(frozen=True)
class Answer:
    """A query's answer: its media type and its bytes (never more than the cap)."""

    media_type: str
    body: bytes


class _FileStream(httpx.SyncByteStream):
    """Bytes `start` to `end` of a file, sent in blocks, re-read from `start` if auth needs the
    request sent again."""

    def __init__(self, path: Path, start: int, end: int, chunk: int = 1 << 20) -> None:
        self.path = path
        self.start = start
        self.end = end
        self.chunk = chunk

    def __iter__(self) -> Iterator[bytes]:
        with self.path.open("rb") as f:
            f.seek(self.start)
            left = self.end - self.start
            while left > 0 and (block := f.read(min(self.chunk, left))):
                left -= len(block)
                yield block


@dataclass(frozen=True)
class _Part:
    """One request of an upload: bytes `start` to `end` of a file."""

    method: str
    path: Path
    start: int
    end: int


def line_ranges(path: Path, size: int | None) -> list[tuple[int, int]]:
    """The file cut into byte ranges of about `size` (None: whole), each ending at a line end,
    so each is N-Triples of its own."""
    total = path.stat().st_size
    if size is None or total <= size:
        return [(0, total)]
    ranges, start = [], 0
    with path.open("rb") as f:
        while start < total:
            f.seek(min(start + size, total))
            f.readline()  # to the end of the line the cut falls in
            end = min(f.tell(), total)
            ranges.append((start, end))
            start = end
    return ranges


class SparqlClient:
    """Queries, updates and graph uploads to one SPARQL server."""

    def __init__(
        self,
        endpoints: Endpoints,
        profile: ServerProfile,
        *,
        credentials: Credentials | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.profile = profile
        self.timeouts = timeouts or Timeouts()
        self._auth = credentials.auth() if credentials else None
        self._query_auth = self._auth if credentials and credentials.for_queries else None
        self._http = httpx.Client(
            timeout=httpx.Timeout(self.timeouts.read, connect=self.timeouts.connect),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
            follow_redirects=False,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> SparqlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- queries --------------------------------------------------------------------

    def query(
        self,
        query: str,
        *,
        accept: str,
        max_bytes: int,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        timeout_seconds: float | None = None,
        trusted: bool = False,
    ) -> Answer:
        """Run a query over the given dataset; its answer, at most `max_bytes` long.

        An untrusted (caller's) query is refused first if it updates, calls SERVICE or uses
        what the profile refuses: the server never sees it. Its empty graph lists are sent
        as a graph that does not exist, as no list means "every graph" to Virtuoso.
        """
        if not trusted:
            read_only(query, strict=True)
            self.profile.refuse(query)
            default_graphs = default_graphs or (NO_GRAPH,)
            named_graphs = named_graphs or (NO_GRAPH,)
            if not self.profile.overrides_dataset:
                dataset_within(query, default_graphs, named_graphs)
        params = [("query", query)]
        params += [("default-graph-uri", g) for g in default_graphs]
        params += [("named-graph-uri", g) for g in named_graphs]
        extra_params, headers = self.profile.timeout(timeout_seconds) if timeout_seconds else ({}, {})
        params += list(extra_params.items())
        headers = {**headers, "Accept": accept}
        form = urlencode(params)
        if len(form) <= _GET_LIMIT:
            build = self._request("GET", f"{self.endpoints.query}?{form}", headers)
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            build = self._request("POST", self.endpoints.query, headers, form.encode())
        return self._with_retries(lambda: self._read_answer(build(), max_bytes))

    def _read_answer(self, request: httpx.Request, max_bytes: int) -> Answer:
        response = self._http.send(request, auth=self._query_auth or httpx.USE_CLIENT_DEFAULT, stream=True)
        try:
            self._raise_for_status(response)
            body = bytearray()
            for block in response.iter_bytes():
                body += block
                if len(body) > max_bytes:
                    raise QueryTooLarge(f"the answer is larger than {max_bytes} bytes")
        finally:
            response.close()
        self.profile.check_answer(response.headers, bytes(body[-_TAIL:]))
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        return Answer(media_type=media_type, body=bytes(body))

    # ---- updates and graphs ---------------------------------------------------------

    def update(self, update: str) -> None:
        """Run a SPARQL update (kg's own: never a caller's)."""
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        body = urlencode({"update": update}).encode()
        build = self._request("POST", self.endpoints.update, headers, body)
        self._with_retries(lambda: self._send(build()))

    def put_graph(self, graph: str, ntriples: Path) -> None:
        """Replace `graph` with the N-Triples in a file (streamed, never read whole)."""
        self._upload("PUT", graph, ntriples)

    def post_graph(self, graph: str, ntriples: Path) -> None:
        """Add the N-Triples in a file to `graph`."""
        self._upload("POST", graph, ntriples)

    def delete_graph(self, graph: str) -> None:
        """Remove `graph`; one that does not exist is already gone."""
        url = f"{self.endpoints.store}?{urlencode({'graph': graph})}"
        build = self._request("DELETE", url, {})
        self._with_retries(lambda: self._send(build(), missing_ok=True))

    def _upload(self, method: str, graph: str, ntriples: Path) -> None:
        # A server that takes a large upload as one transaction (Virtuoso: 35 MB deadlocked,
        # 140 MB stalled) gets it in parts, the first replacing (PUT) or adding, the rest
        # adding: kg uploads into graphs no reader is given while they fill.
        url = f"{self.endpoints.store}?{urlencode([('graph', graph), *self.profile.upload_params])}"
        headers = {"Content-Type": "application/n-triples"}
        for n, (start, end) in enumerate(line_ranges(ntriples, self.profile.upload_bytes)):
            part = _Part(method if n == 0 else "POST", ntriples, start, end)
            self._with_retries(lambda part=part: self._send(self._part_request(url, headers, part)))  # type: ignore[misc]

    def _part_request(self, url: str, headers: dict[str, str], part: _Part) -> httpx.Request:
        request = self._http.build_request(part.method, url, headers=headers)
        request.stream = _FileStream(part.path, part.start, part.end)
        request.headers["Content-Length"] = str(part.end - part.start)
        return request

    # ---- plumbing -------------------------------------------------------------------

    def _request(
        self, method: str, url: str, headers: dict[str, str], body: bytes = b""
    ) -> Callable[[], httpx.Request]:
        """A factory of fresh requests: a retry must not reuse a consumed one."""
        return lambda: self._http.build_request(method, url, headers=headers, content=body or None)

    def _send(self, request: httpx.Request, *, missing_ok: bool = False) -> None:
        response = self._http.send(request, auth=self._auth or httpx.USE_CLIENT_DEFAULT, stream=True)
        try:
            if missing_ok and response.status_code == 404:
                return
            self._raise_for_status(response)
        finally:
            response.close()

    def _raise_for_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 300:
            return
        if status in self.profile.retry_statuses:
            raise _Transient(status)
        message = _message(response)
        if any(code in message for code in self.profile.retry_codes):
            raise _Transient(status)  # a deadlock the server rolled back: the same request may pass
        if status in (401, 403) and response.request.method != "GET":
            raise QueryError(f"the store at {self.endpoints.origin} refused kg's credentials (HTTP {status})")
        raise classify_failure(status, message)

    def _with_retries(self, attempt: Callable[[], _T]) -> _T:
        delay = self.timeouts.backoff
        for n in range(1, self.timeouts.attempts + 1):
            try:
                return attempt()
            except httpx.ReadTimeout:
                # not retried: the store is working on it, and a second copy would double the load
                raise QueryTimeout(
                    f"the store at {self.endpoints.origin} sent nothing for {self.timeouts.read:g} s"
                ) from None
            except _NOT_NOW as exc:
                # the exception's text may hold a URL; log its kind only
                log.warning(
                    "store not answering",
                    extra={"origin": self.endpoints.origin, "attempt": n, "error": type(exc).__name__},
                )
                if n == self.timeouts.attempts:
                    break
                time.sleep(delay)
                delay *= 2
        raise StoreUnavailable(self.endpoints.origin)


class _Transient(Exception):
    """A status that says "not now"."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


_NOT_NOW = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.RemoteProtocolError,
    httpx.ReadError,
    httpx.WriteError,
    _Transient,
)
"""A server down, restarting or behind a proxy that says so. Resending is safe: queries
read, and kg's updates and graph uploads give the same result when applied twice."""

_SPACES = re.compile(r"\s+")
_TAGS = re.compile(r"<[^>]*>")


def _message(response: httpx.Response) -> str:
    """The server's error text, short: Virtuoso's echo of the query and HTML markup cut."""
    raw = b""
    for block in response.iter_bytes():
        raw += block
        if len(raw) >= 8 * MAX_MESSAGE:
            break
    text = raw.decode("utf-8", "replace").split("\n\nSPARQL query:", 1)[0]
    text = _SPACES.sub(" ", _TAGS.sub(" ", text)).strip()
    return text[:MAX_MESSAGE]
