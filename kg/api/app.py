"""The application factory: API, webhook receiver, worker process and scheduler in one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from kg import __version__, health
from kg.api import problems, spec
from kg.api.forge_details import ForgeDetails
from kg.api.limits import ParameterLimit
from kg.api.outbound import GitLabCalls
from kg.api.requestid import RequestIds
from kg.api.routes import (
    datasets,
    entities,
    hooks,
    knowledge_projects,
    lineage,
    ontology,
    ops,
    project_changes,
    projects,
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
from kg.pipeline.supervisor import WorkerProcess
from kg.scheduler import start_scheduler
from kg.search import open_index
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


def create_app(settings: Settings) -> FastAPI:
    """Build the kg application. Background processes start with the app and stop with it."""

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
        isolated = await run_in_threadpool(network_isolation_works)
        app.state.strict_sparql = not isolated
        app.state.admission = Admission(
            per_caller=settings.sparql_per_caller,
            anonymous=settings.anonymous_query_slots,
            timeout=settings.sparql_timeout_seconds,
        )
        worker = WorkerProcess(settings) if settings.worker_enabled else None
        app.state.worker = worker
        if worker is not None:
            worker.start()
        app.state.probes = health.Probes(
            {
                "worker": lambda: health.worker(
                    worker, settings.data_dir, settings.worker_stale_seconds, settings.job_timeout_seconds
                ),
                "eventLog": lambda: health.event_log(app.state.events),
                "store": lambda: health.store(app.state.reader),
                "searchIndex": lambda: health.search_index(app.state.index),
                "network": lambda: health.isolation(isolated),
            }
        )
        scheduler = start_scheduler(worker)
        try:
            yield
        finally:
            scheduler.shutdown(wait=False)
            if worker is not None:
                worker.stop()
            app.state.reader.close()
            app.state.events.close()
            app.state.index.close()
            app.state.vault.close()
            app.state.views.close()

    app = FastAPI(
        title="kg",
        version=__version__,
        description="Provenance knowledge graph for git forges.",
        lifespan=lifespan,
        openapi_url="/spec.json",
    )
    app.add_middleware(ParameterLimit)
    app.add_middleware(RequestIds)  # added last: outermost, so every log line of a request has its id
    problems.install(app)
    problems.document(app)
    spec.describe(app)
    app.include_router(spec.router)
    app.include_router(ops.router)
    app.include_router(receiver.router)
    app.include_router(projects.router)
    app.include_router(hooks.router)
    app.include_router(sparql.router)
    app.include_router(ontology.router)
    app.include_router(ontology.alias)
    app.include_router(entities.router)
    app.include_router(lineage.router)  # before the project pages: see kg.api.routes.lineage
    app.include_router(viewed.router)
    app.include_router(project_changes.router)
    app.include_router(knowledge_projects.router)
    app.include_router(datasets.router)
    app.include_router(users.router)
    return app
