"""The application factory: the REST + SPARQL API (`kg api`), or everything in one process
(`kg serve`: the API, the webhook receiver, a worker process and the scheduler)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from kg import __version__, health
from kg.api import spec
from kg.api.forge_details import ForgeDetails
from kg.api.limits import ParameterLimit
from kg.api.outbound import GitLabCalls
from kg.api.routes import (
    datasets,
    entities,
    hooks,
    knowledge_projects,
    lineage,
    ontology,
    ops,
    project_changes,
    project_contents,
    projects,
    sessions,
    sparql,
    users,
    viewed,
)
from kg.api.viewed import RecentViews
from kg.auth.callers import Callers
from kg.auth.gitlab import GitLabUsers
from kg.auth.oidc import OidcVerifier
from kg.auth.vault import open_vault
from kg.config import Settings
from kg.confined import network_isolation_works
from kg.events import open_event_log
from kg.explorer import pages
from kg.http import problems
from kg.http.cors import Cors
from kg.http.requestid import RequestIds
from kg.pipeline.supervisor import Watchdog, WorkerProcess
from kg.scheduler import start_scheduler
from kg.search import open_index
from kg.sessions import open_backend
from kg.sparql.admission import Admission
from kg.store import open_reader
from webhooks import receiver


def make_callers(settings: Settings) -> Callers:
    """How callers are identified, from the OIDC and GitLab settings."""
    oidc = (
        OidcVerifier(settings.oidc_issuer, settings.oidc_audience or None, settings.oidc_user_claim)
        if settings.oidc_issuer
        else None
    )
    gitlab = (
        GitLabUsers(
            settings.gitlab_url, settings.auth_cache_seconds, per_minute=settings.auth_lookups_per_minute
        )
        if settings.gitlab_url
        else None
    )
    return Callers(oidc, gitlab)


Role = Literal["serve", "api"]
"""`serve`: everything in one process; `api`: every route but the webhook receiver, and no
background work (that is `kg worker` and `kg scheduler`)."""


def create_app(settings: Settings, role: Role = "serve") -> FastAPI:
    """Build the kg application. Background processes start with the app and stop with it."""
    embedded = role == "serve"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        app.state.settings = settings
        app.state.events = open_event_log(settings)
        app.state.index = open_index(settings)
        app.state.callers = make_callers(settings)
        app.state.vault = open_vault(settings)
        app.state.views = RecentViews(settings.data_dir / "viewed.sqlite")
        own_token = settings.gitlab_token.get_secret_value() if settings.gitlab_token else None
        app.state.forge_details = (
            ForgeDetails(settings.gitlab_url, own_token) if settings.gitlab_url else None
        )
        app.state.reader = open_reader(settings, serving=True)
        app.state.gitlab_calls = GitLabCalls(settings.auth_lookups_per_minute)
        app.state.sessions = open_backend(settings)
        app.state.session_starts = asyncio.Lock()
        isolated = await run_in_threadpool(network_isolation_works)
        app.state.strict_sparql = not isolated
        app.state.admission = Admission(
            per_caller=settings.sparql_per_caller,
            anonymous=settings.anonymous_query_slots,
            timeout=settings.sparql_timeout_seconds,
        )
        worker = WorkerProcess(settings) if embedded and settings.worker_enabled else None
        app.state.worker = worker
        watchdog = Watchdog([worker] if worker is not None else [])
        watchdog.start()
        probes: dict[str, Callable[[], health.Check]] = {
            "eventLog": lambda: health.event_log(app.state.events),
            "store": lambda: health.store(app.state.reader),
            "searchIndex": lambda: health.search_index(app.state.index),
            "network": lambda: health.isolation(isolated),
        }
        if embedded:  # `kg api` runs no worker: `kg worker` reports its own
            probes["worker"] = lambda: health.worker(
                worker, settings.data_dir, settings.worker_stale_seconds, settings.job_timeout_seconds
            )
        app.state.probes = health.Probes(dict(sorted(probes.items(), key=lambda kv: kv[0] != "worker")))
        scheduler = start_scheduler(settings) if embedded else None
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            watchdog.stop()
            app.state.reader.close()
            app.state.events.close()
            app.state.index.close()
            app.state.vault.close()
            app.state.views.close()
            await app.state.sessions.close()

    app = FastAPI(
        title="kg",
        version=__version__,
        description="Provenance knowledge graph for git forges.",
        lifespan=lifespan,
        openapi_url="/spec.json",
        docs_url=None,  # kg.explorer.pages serves /docs from its own assets
        redoc_url=None,
    )
    app.add_middleware(ParameterLimit)
    app.add_middleware(Cors, trusted=settings.trusted_origins)
    app.add_middleware(RequestIds)  # added last: outermost, so every log line of a request has its id
    problems.install(app)
    problems.document(app)
    spec.describe(app)
    app.include_router(spec.router)
    app.include_router(ops.router)
    if embedded:
        app.include_router(receiver.router)
    app.include_router(projects.router)
    app.include_router(hooks.router)
    app.include_router(sparql.router)
    app.include_router(ontology.router)
    app.include_router(ontology.alias)
    app.include_router(entities.router)
    app.include_router(lineage.router)  # before the project pages: see kg.api.routes.lineage
    app.include_router(viewed.router)
    app.include_router(project_contents.router)  # before the project page, whose slug would take `files`
    app.include_router(project_changes.router)
    app.include_router(knowledge_projects.router)
    app.include_router(datasets.router)
    app.include_router(users.router)
    app.include_router(sessions.router)
    pages.install(app)  # last: its shell answers every other /explore/ path
    return app
