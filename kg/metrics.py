"""Every Prometheus metric kg exports, defined here and nowhere else, and how `/metrics` is
gathered.

`kg serve` runs its worker in another process: it shares metrics through files
(prometheus-client's multiprocess mode, see `kg.metric_files`), so the API's `/metrics`
shows the worker's jobs too. In a fleet each role's process exposes its own metrics (`kg worker`
on `KG_METRICS_PORT`, see `listen`). Labels take values from small fixed sets only: never a
project, a path or a user, which would grow without bound.

Every metric has a label, and no labelled value is made at import: in multiprocess mode a
value is a file per process, and the query and extraction processes that import this module
(and are replaced whenever one is killed) must not leave files behind that they never write.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from typing import Any, ParamSpec, TypeVar

from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.process_collector import ProcessCollector

from kg.errors import BodyTooLarge, InvalidInput, KgError, QueryTimeout, Unauthorized, Unavailable
from kg.events import EventLog
from kg.metric_files import MULTIPROCESS_ENV
from kg.pipeline.failures import out_of_space

T = TypeVar("T")
P = ParamSpec("P")

_SHARED = bool(os.environ.get(MULTIPROCESS_ENV))
"""Whether this process keeps its metrics in files (decided, as the client decides, at import)."""

_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_SLOW = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)

WEBHOOKS_RECEIVED = Counter(
    "kg_webhooks_received",
    "Webhook deliveries answered 202, by what became of them",
    ["outcome"],  # accepted, duplicate, ignored
)
WEBHOOKS_REJECTED = Counter(
    "kg_webhooks_rejected",
    "Webhook deliveries refused, by reason",
    ["reason"],  # unauthorized, invalid, too_large, unavailable, other
)
JOB_SECONDS = Histogram(
    "kg_job_duration_seconds",
    "Wall time of one ingest job, from claim to outcome",
    ["outcome"],  # success, retry, failed, abandoned
    buckets=_SLOW,
)
JOB_TRIPLES_PER_SECOND = Histogram(
    "kg_job_triples_per_second",
    "Triples published per second of a successful ingest job, by ingest mode",
    ["mode"],  # full, incremental, unchanged
    buckets=(100, 1_000, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000),
)
JOB_TRIPLES = Counter("kg_job_triples", "Triples published by successful ingest jobs", ["mode"])
INGEST_FAILURES = Counter(
    "kg_ingest_failures",
    "Failed ingest jobs, by class of failure and whether they will be retried",
    ["failure", "retry"],
)
SPARQL_SECONDS = Histogram(
    "kg_sparql_query_duration_seconds",
    "Latency of SPARQL queries through the API, by outcome (timeouts: outcome=timeout)",
    ["outcome"],  # answered, timeout, refused (bad query, too large, crashed, store down)
    buckets=_FAST,
)
SEARCH_SECONDS = Histogram(
    "kg_search_duration_seconds",
    "Latency of search index queries, by outcome",
    ["outcome"],  # answered, failed
    buckets=_FAST,
)
PUBLISH_SECONDS = Histogram(
    "kg_store_publish_duration_seconds",
    "Time to publish a project's graph to the store",
    ["kind"],  # replace, extend
    buckets=_SLOW,
)
IDENTITY_ERRORS = Counter(
    "kg_identity_call_errors",
    "Calls to GitLab or the identity provider that failed (no answer, or an answer kg cannot use)",
    ["service"],  # gitlab, oidc
)


def failure_class(exc: BaseException) -> str:
    """A small, fixed name for what went wrong: kg's own error classes, or the kind of
    trouble the operating system or an unexpected bug caused.

    >>> failure_class(QueryTimeout("slow"))
    'QueryTimeout'
    >>> failure_class(OSError(28, "No space left on device"))
    'out_of_space'
    >>> failure_class(ZeroDivisionError())
    'internal'
    """
    if out_of_space(exc):
        return "out_of_space"
    if isinstance(exc, KgError):
        return type(exc).__name__
    if isinstance(exc, OSError):
        return "os_error"
    return "internal"


class _JobClocks:
    """When each running job was claimed, so its outcome can be timed wherever it is decided."""

    LIMIT = 1024  # more jobs than any worker runs at once: a leak cannot grow past it

    def __init__(self) -> None:
        self._started: dict[tuple[int, str], float] = {}
        self._lock = threading.Lock()

    def start(self, project_id: int, owner: str) -> None:
        with self._lock:
            if len(self._started) >= self.LIMIT:
                self._started.clear()
            self._started[(project_id, owner)] = time.monotonic()

    def stop(self, project_id: int, owner: str) -> float | None:
        with self._lock:
            started = self._started.pop((project_id, owner), None)
        return None if started is None else time.monotonic() - started


_clocks = _JobClocks()


def job_started(project_id: int, owner: str) -> None:
    """A worker took a job: its clock starts."""
    _clocks.start(project_id, owner)


def job_succeeded(project_id: int, owner: str, triples: int, mode: str) -> None:
    """A job published its project (`mode`: full, incremental or unchanged)."""
    seconds = _clocks.stop(project_id, owner)
    JOB_TRIPLES.labels(mode).inc(triples)
    if seconds is not None:
        JOB_SECONDS.labels("success").observe(seconds)
        JOB_TRIPLES_PER_SECOND.labels(mode).observe(triples / max(seconds, 1e-3))


def job_failed(project_id: int, owner: str, exc: BaseException, retry: bool) -> None:
    """A job failed; `retry`: it will be tried again."""
    seconds = _clocks.stop(project_id, owner)
    INGEST_FAILURES.labels(failure_class(exc), "true" if retry else "false").inc()
    if seconds is not None:
        JOB_SECONDS.labels("retry" if retry else "failed").observe(seconds)


def job_abandoned(project_id: int, owner: str) -> None:
    """A job's lease went to another worker: its outcome is theirs."""
    seconds = _clocks.stop(project_id, owner)
    if seconds is not None:
        JOB_SECONDS.labels("abandoned").observe(seconds)


async def timed_query(query: Awaitable[T]) -> T:
    """Await a SPARQL query, counting its latency and whether it was stopped for time."""
    started = time.perf_counter()
    outcome = "refused"
    try:
        answer = await query
        outcome = "answered"
        return answer
    except QueryTimeout:
        outcome = "timeout"
        raise
    finally:
        SPARQL_SECONDS.labels(outcome).observe(time.perf_counter() - started)


def timed_search(search: Callable[..., T]) -> Callable[..., T]:
    """`search`, its latency counted (for a thread pool, where a context manager cannot go)."""

    def timed(*args: object) -> T:
        started = time.perf_counter()
        outcome = "failed"
        try:
            found = search(*args)
            outcome = "answered"
            return found
        finally:
            SEARCH_SECONDS.labels(outcome).observe(time.perf_counter() - started)

    return timed


def timed_publish(kind: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Decorate a store's publishing method: its duration counts under `kind`."""

    def decorate(publish: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(publish)
        def timed(*args: P.args, **kwargs: P.kwargs) -> T:
            with PUBLISH_SECONDS.labels(kind).time():
                return publish(*args, **kwargs)

        return timed

    return decorate


async def counted_store(stored: Awaitable[bool]) -> bool:
    """Await a webhook's storage, counting whether it was new or a duplicate."""
    fresh = await stored
    WEBHOOKS_RECEIVED.labels("accepted" if fresh else "duplicate").inc()
    return fresh


def rejection_reason(exc: KgError) -> str:
    """Why a webhook was refused, in a word.

    >>> rejection_reason(BodyTooLarge("big")), rejection_reason(InvalidInput("bad"))
    ('too_large', 'invalid')
    """
    if isinstance(exc, Unauthorized):
        return "unauthorized"
    if isinstance(exc, BodyTooLarge):
        return "too_large"
    if isinstance(exc, InvalidInput):
        return "invalid"
    if isinstance(exc, Unavailable):
        return "unavailable"  # not stored: GitLab retries
    return "other"


def counted_rejections(
    receive: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """Decorate the webhook route: every refusal it raises is counted by reason."""

    @functools.wraps(receive)
    async def counted(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await receive(*args, **kwargs)
        except KgError as exc:
            WEBHOOKS_REJECTED.labels(rejection_reason(exc)).inc()
            raise

    return counted


class QueueDepth:
    """Projects in the event log by state, counted when Prometheus scrapes (the log is the
    truth, shared by every process: counting there is right however many workers run)."""

    def __init__(self, events: EventLog) -> None:
        self.events = events

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "kg_queue_projects", "Projects in the event log, by state", labels=["state"]
        )
        counts = dict.fromkeys(("idle", "pending", "running", "failed"), 0)
        try:
            for status in self.events.statuses():
                counts[status.state] = counts.get(status.state, 0) + 1
        except KgError:
            return  # the log is down: /ready says so; no made-up zeros here
        for state, count in counts.items():
            family.add_metric([state], count)
        yield family


class Scrape:
    """What one `/metrics` answer holds: this process's metrics (or, when processes share
    them, every process's), plus the queue depth when the process has an event log."""

    def __init__(self, events: EventLog | None) -> None:
        self._sources: list[object] = []
        if _SHARED:
            self._sources += [
                MultiProcessCollector(None),  # type: ignore[no-untyped-call]
                ProcessCollector(registry=None),
            ]
        else:
            self._sources.append(REGISTRY)
        if events is not None:
            self._sources.append(QueueDepth(events))

    def collect(self) -> Iterable[Metric]:
        for source in self._sources:
            yield from source.collect()  # type: ignore[attr-defined]


def listen(host: str, port: int) -> None:
    """Serve this process's metrics at `http://host:port/metrics` (port 0: do not), for a
    process without an HTTP server of its own (`kg worker`)."""
    if port:
        start_http_server(port, addr=host)
