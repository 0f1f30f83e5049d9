"""All of kg's configuration: one `Settings`, read from `KG_*` environment variables.

`load_settings` turns every mistake into one line naming the variable and what it
accepts, checked at start-up rather than at the first job that needs the value.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kg.errors import KgError
from kg.urls import origin

DEV_HOOK_SECRET = "development-only-hook-secret"
DEV_TOKEN_KEY = "ZGV2ZWxvcG1lbnQtb25seS10b2tlbi1rZXktMzJieXQ="  # base64 of 32 bytes
MIN_HOOK_SECRET = 32
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class SettingsError(KgError):
    """The configuration is unusable; one line per problem, each naming its variable."""


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


class Settings(BaseSettings):
    """Configuration of one kg instance. Defaults run embedded, under `data_dir`."""

    model_config = SettingsConfigDict(env_prefix="KG_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path(".kg")
    store_url: str = ""
    """`oxigraph:///path` (embedded, on disk; empty: `<data_dir>/store`), or a SPARQL server:
    the base URL of an `oxigraph serve`, Virtuoso's `http://HOST:8890/sparql`, a Fuseki
    dataset's URL (with `KG_STORE_SERVER`)."""
    store_server: Literal["oxigraph", "virtuoso", "fuseki"] = "oxigraph"
    """Which kind of server an http(s) `KG_STORE_URL` is (see kg/store/sparql11/servers.py)."""
    store_update_url: str = ""
    """Where SPARQL updates go, when not where the server's kind puts them."""
    store_graph_store_url: str = ""
    """The Graph Store Protocol endpoint, when not where the server's kind puts it."""
    store_user: str = ""
    """Who kg writes as (Virtuoso: a user granted SPARQL_UPDATE); empty: no credentials."""
    store_password: SecretStr = SecretStr("")
    store_auth: Literal["basic", "digest"] = "basic"
    """How the credentials are sent (Virtuoso's authenticated endpoints want digest)."""
    store_write_timeout_seconds: float = Field(900.0, gt=0)
    """How long one load or update may take (a 20,000-commit project is ~1.5M triples)."""
    event_log_url: str = ""
    """`sqlite:///path` (embedded), or `postgresql://user:password@host:port/database` for
    a fleet (also `postgresql+psycopg://`). Empty: `<data_dir>/events.sqlite`."""
    search_url: SecretStr = SecretStr("")
    """`postgresql://user:password@host:port/database` (PostgreSQL full-text search, shared
    by every kg process). Empty: SQLite in `<data_dir>/search.sqlite`. A secret: it may
    carry a password."""
    base_iri: str = "https://kg.local/"
    """Prefix of every IRI kg mints; fixed for the life of an instance."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)  # 0: any free port (kg serve says which)
    forwarded_allow_ips: str = "127.0.0.1"
    """Proxies whose X-Forwarded-For kg believes (comma list, or `*`): the per-address limits
    then count the client they name. Set it to the ingress behind which kg runs."""

    hook_secret: SecretStr = SecretStr(DEV_HOOK_SECRET)
    """Server secret that per-project webhook tokens are derived from."""
    hook_max_bytes: int = Field(1024 * 1024, ge=4096)
    """Largest webhook body read; GitLab's push payloads are a few KB (20 commits at most)."""
    git_token: SecretStr | None = None
    """Token for fetching private repositories (default: KG_GITLAB_TOKEN); sent only to
    KG_GITLAB_URL's origin."""
    git_timeout_seconds: float = Field(900.0, gt=0)
    git_allowed_origins: str = ""
    """Comma list of `scheme://host[:port]` a payload's clone URL may name when no GitLab is
    configured. Empty: KG_GITLAB_URL's origin only."""

    extractors: str = "all"
    """Tool extractors to run besides git history: all, none, or a comma list
    (renku, renku-legacy, dvc, datalad, rocrate, prov)."""
    worker_enabled: bool = True
    coalesce_seconds: float = Field(2.0, ge=0)
    """A push to an idle project is ingested at once. Pushes arriving while the project is
    queued or being ingested are gathered into its next job, which starts no sooner than
    this long after the previous one started: a burst of pushes costs two ingests, not one
    per push."""
    worker_lease_seconds: float = Field(300.0, gt=0)
    worker_poll_seconds: float = Field(1.0, gt=0)
    """Longest an idle worker waits before looking at the event log again; a push stored
    meanwhile wakes it at once."""
    worker_heavy_seconds: float = Field(60.0, gt=0)
    """A project whose last ingest (or the one running now) took this long is heavy."""
    worker_heavy_share: float = Field(0.75, gt=0, le=1)
    """Share of the live workers (across every machine on one event log) that may run
    heavy projects at once, rounded down but at least one: below 1, at least one worker
    of two or more stays free for small projects while big ones queue."""
    retry_base_seconds: float = Field(30.0, ge=0)
    retry_max_seconds: float = Field(3600.0, ge=0)
    max_attempts: int = Field(6, ge=1)
    worker_stale_seconds: float = Field(30.0, gt=0)
    """A worker silent this long (frozen, or never got going) is reported by /ready."""
    job_timeout_seconds: float = Field(900.0, gt=0)
    """Wall-clock limit of one job's extraction; past it the job fails for good (20,000
    commits take ~10 s: this is for histories of millions, and bounds how long one project
    can hold the worker)."""
    job_max_memory_mb: int = Field(4096, ge=256)
    """Memory limit of the process extracting one job (RLIMIT_DATA)."""
    job_max_triples: int = Field(10_000_000, ge=1000)
    """Most triples one ingest may produce (10M is ~1.5 GB of N-Triples and a few minutes
    to load; a 20,000-commit history gives 600,000)."""

    sparql_workers: int = Field(4, ge=1, le=64)
    """Query processes (~60 MB each when idle); with the per-caller limit, it takes this many
    accounts' slow queries at once to make other callers wait."""
    sparql_timeout_seconds: float = Field(30.0, gt=0)
    sparql_max_result_bytes: int = Field(64 * 1024 * 1024, ge=1024)
    sparql_max_memory_mb: int = Field(1024, ge=128)
    """Memory limit of each query process (RLIMIT_DATA); a query past it is refused."""
    sparql_per_caller: int = Field(1, ge=1)
    """Queries one caller (a user, or one anonymous address) may run at once."""
    sparql_anonymous_slots: int | None = Field(None, ge=1)
    """Query processes anonymous callers may hold together. Empty: half of them, at least one."""

    oidc_issuer: str = ""
    """Keycloak realm URL (e.g. https://id.example/realms/kg); empty: no OIDC tokens."""
    oidc_audience: str = ""
    oidc_user_claim: str = "sub"
    """The claim holding the user id that project memberships use."""
    oidc_client_id: str = "kg-explorer"
    """The public OIDC client (no secret) the explorer signs in as, with the authorisation code
    flow and PKCE: register it at the provider with redirect URI `<kg URL>/explore/signed-in`
    and kg's origin as a web origin, and give its tokens KG_OIDC_AUDIENCE as audience."""
    gitlab_url: str = ""
    """GitLab's base URL, for token checks and project members; empty: no GitLab."""
    gitlab_token: SecretStr | None = None
    """A GitLab token kg uses to read projects' visibility and members."""
    auth_cache_seconds: float = Field(60.0, ge=0)
    auth_lookups_per_minute: int = Field(60, ge=1)
    """GitLab token checks one client address may cause per minute (cache misses)."""
    access_refresh_seconds: float = Field(900.0, gt=0)
    """How often every project's visibility and members are read again from GitLab."""
    schedule_sweep_seconds: float = Field(60.0, gt=0)
    """How often the scheduler counts due retries and expired leases in the queue."""
    schedule_reconcile_seconds: float = Field(3600.0, gt=0)
    """How often GitLab is asked for each project's default-branch head (missed pushes)."""
    schedule_index_seconds: float = Field(86400.0, gt=0)
    """How often the search index is optimized (SQLite FTS merge, PostgreSQL ANALYZE)."""
    schedule_gc_seconds: float = Field(3600.0, gt=0)
    """How often graphs no record points to are dropped from a store server."""
    schedule_cull_seconds: float = Field(600.0, gt=0)
    """How often Kubernetes sessions older than KG_SESSIONS_MAX_AGE_SECONDS are deleted (the
    `pod` kind; the Amalthea operator culls its own)."""
    public_url: str = ""
    """How GitLab reaches kg (for the webhooks kg creates). Empty: http://host:port."""
    cors_origins: str = ""
    """Comma list of origins (`https://host[:port]`) whose pages may send credentials to kg's
    read routes; any other origin may read anonymously."""
    token_key: SecretStr = SecretStr(DEV_TOKEN_KEY)
    """Fernet key that stored access tokens are encrypted with."""

    sessions_backend: Literal["local", "kubernetes"] = "local"
    """Who runs interactive sessions: `local` (processes on this machine) or `kubernetes`."""
    sessions_command: str = (
        "jupyter lab --no-browser --ip=127.0.0.1 --port={port} --ServerApp.token={token}"
        " --ServerApp.base_url={base_url}"
    )
    """The local backend's command; `{port}`, `{token}` and `{base_url}` are filled in, the
    working directory is a worktree of the project at the commit."""
    sessions_image: str = "quay.io/jupyter/minimal-notebook:2024-12-09"
    """The image a session runs when the request names none."""
    sessions_allowed_images: str = ""
    """Comma list of images a request may name; empty: only KG_SESSIONS_IMAGE."""
    sessions_cpu: float = Field(0.5, gt=0)
    sessions_memory_mb: int = Field(1024, ge=64)
    """What a session gets when the request asks for nothing."""
    sessions_max_cpu: float = Field(4.0, gt=0)
    sessions_max_memory_mb: int = Field(16384, ge=64)
    sessions_max_gpu: int = Field(0, ge=0)
    """The most one session may ask for."""
    sessions_max_per_user: int = Field(3, ge=1)
    """Sessions one user may have at once."""
    sessions_idle_seconds: float = Field(3600.0, gt=0)
    sessions_max_age_seconds: float = Field(86400.0, gt=0)
    """Culling: a session idle this long, or this old, is stopped."""
    sessions_kind: Literal["amaltheasession", "jupyterserver", "pod"] = "pod"
    """What the Kubernetes backend creates: an Amalthea `AmaltheaSession` or `JupyterServer`
    (where the operator is installed), or a plain Pod + Service (+ Ingress)."""
    sessions_namespace: str = "kg-sessions"
    sessions_url: str = ""
    """Public base URL sessions are reached under (Kubernetes: the ingress host, a session
    at `<url>/sessions/<name>/`); empty: each backend's own (local: http://127.0.0.1:port)."""
    sessions_ingress_class: str = ""
    sessions_git_image: str = "alpine/git:2.47.2"
    """Image of the init container that clones the project at the commit."""
    sessions_kubeconfig: str = ""
    """Kubeconfig file of the Kubernetes backend; empty: in-cluster (the pod's account)."""

    log_level: Annotated[LogLevel, BeforeValidator(_upper)] = "INFO"
    log_format: Literal["json", "console"] = "json"
    metrics_port: int = Field(0, ge=0, le=65535)
    """Port on which `kg worker` serves its Prometheus metrics (0: none; the other roles serve
    them at `/metrics` on their own port)."""

    @field_validator("data_dir")
    @classmethod
    def _a_directory(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError("exists and is not a directory")
        return value

    @field_validator("store_url")
    @classmethod
    def _store_scheme(cls, value: str) -> str:
        if value.startswith(("http://", "https://")):
            if not origin(value) or "@" in value.split("/")[2]:
                raise ValueError("must be a SPARQL server's URL without credentials (see KG_STORE_USER)")
            return value
        if value and (not value.startswith("oxigraph://") or len(value) == len("oxigraph://")):
            raise ValueError("must be empty, oxigraph:///path/to/store or a SPARQL server's http(s) URL")
        return value

    @field_validator("store_update_url", "store_graph_store_url")
    @classmethod
    def _store_endpoint(cls, value: str) -> str:
        if value and not origin(value).startswith(("http://", "https://")):
            raise ValueError("must be an http(s):// URL")
        return value

    @field_validator("event_log_url")
    @classmethod
    def _event_log_scheme(cls, value: str) -> str:
        if value.startswith(("postgresql://", "postgresql+psycopg://")):
            if not value.split("://", 1)[1].strip("/"):
                raise ValueError("must name a server: postgresql://user:password@host:port/database")
            return value
        if value and (not value.startswith("sqlite:///") or len(value) == len("sqlite:///")):
            raise ValueError(
                "must be empty, sqlite:///path (sqlite:////absolute/path)"
                " or postgresql://user:password@host:port/database"
            )
        return value

    @field_validator("search_url")
    @classmethod
    def _search_scheme(cls, value: SecretStr) -> SecretStr:
        scheme, _, rest = value.get_secret_value().partition("://")
        if scheme and (scheme not in ("postgresql", "postgres") or not rest):
            raise ValueError("must be empty or postgresql://user:password@host:port/database")
        return value

    @field_validator("extractors")
    @classmethod
    def _known_extractors(cls, value: str) -> str:
        from kg.extract.tools import tool_extractors

        try:
            tool_extractors(value)
        except ValueError as exc:
            raise ValueError(f"{exc}; use all, none or a comma list of them") from None
        return value

    @field_validator("git_allowed_origins", "cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for entry in filter(None, (v.strip() for v in value.split(","))):
            plain = entry.rstrip("/").lower()
            if origin(entry) != plain or not plain.startswith(("http:", "https:")):
                raise ValueError(f"{entry!r} is not an origin like https://gitlab.example[:port]")
        return value

    @field_validator("sessions_command")
    @classmethod
    def _session_command(cls, value: str) -> str:
        try:
            value.format(port=0, token="", base_url="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"may use only {{port}}, {{token}} and {{base_url}} ({exc})") from None
        if "{port}" not in value:
            raise ValueError("must listen on {port}")
        return value

    @field_validator("gitlab_url", "oidc_issuer", "public_url", "sessions_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not origin(value).startswith(("http://", "https://")):
            raise ValueError("must be an http(s):// URL")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        production = self.environment != "development"
        if production and self.hook_secret.get_secret_value() == DEV_HOOK_SECRET:
            raise ValueError("KG_HOOK_SECRET must be set outside development")
        if production and len(self.hook_secret.get_secret_value()) < MIN_HOOK_SECRET:
            raise ValueError(f"KG_HOOK_SECRET must be at least {MIN_HOOK_SECRET} characters in production")
        if production and self.token_key.get_secret_value() == DEV_TOKEN_KEY:
            raise ValueError("KG_TOKEN_KEY must be set outside development")
        if not self.base_iri.endswith(("/", "#")):
            raise ValueError("KG_BASE_IRI must end with '/' or '#'")
        if self.git_token is not None and not self.gitlab_url:
            raise ValueError("KG_GIT_TOKEN is sent only to KG_GITLAB_URL's origin: set KG_GITLAB_URL")
        return self

    @property
    def embedded_store(self) -> bool:
        """Whether the store is kg's own on-disk store (else a SPARQL server)."""
        return not self.store_url.startswith(("http://", "https://"))

    @property
    def store_path(self) -> Path:
        """The on-disk location of the embedded store."""
        if not self.store_url:
            return self.data_dir / "store"
        return Path(self.store_url.removeprefix("oxigraph://"))

    @property
    def event_log_path(self) -> Path:
        """The SQLite file of the embedded event log (unused with PostgreSQL)."""
        if not self.event_log_url.startswith("sqlite:///"):
            return self.data_dir / "events.sqlite"
        # SQLAlchemy's convention: sqlite:///relative, sqlite:////absolute
        return Path(self.event_log_url.removeprefix("sqlite:///"))

    @property
    def hook_url(self) -> str:
        """The webhook URL kg registers at GitLab."""
        base = self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"
        return f"{base}/webhooks/events"

    @property
    def mirrors_dir(self) -> Path:
        """Where bare mirrors of fetched repositories are kept."""
        return self.data_dir / "mirrors"

    @property
    def forge_origin(self) -> str:
        """The only origin credentials are ever sent to: GitLab's ('' without GitLab)."""
        return origin(self.gitlab_url)

    @property
    def allowed_origins(self) -> frozenset[str]:
        """Origins a clone URL may name: KG_GIT_ALLOWED_ORIGINS, else GitLab's."""
        listed = {origin(v) for v in self.git_allowed_origins.split(",") if v.strip()}
        return frozenset(listed or ({self.forge_origin} if self.forge_origin else set()))

    @property
    def trusted_origins(self) -> frozenset[str]:
        """Origins whose pages may send credentials (KG_CORS_ORIGINS)."""
        return frozenset(origin(v) for v in self.cors_origins.split(",") if v.strip())

    @property
    def anonymous_query_slots(self) -> int:
        """Query processes anonymous callers may hold together."""
        return self.sparql_anonymous_slots or max(1, self.sparql_workers // 2)


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        if not error["loc"]:  # a check across variables names them itself
            lines.append(message)
            continue
        name = "KG_" + str(error["loc"][0]).upper()
        value = error.get("input")
        secret = Settings.model_fields.get(str(error["loc"][0]))
        hidden = secret is not None and "SecretStr" in str(secret.annotation)
        shown = (
            ""
            if isinstance(value, dict) or value is None or hidden
            else f"={_without_password(str(value))!r}"
        )
        lines.append(f"{name}{shown}: {message}")
    return "\n".join(lines)


def _without_password(value: str) -> str:
    """A value as an error may show it: a URL's password replaced by `***`.

    >>> _without_password("postgresql://kg:s3cret@db:5432/kg")
    'postgresql://kg:***@db:5432/kg'
    """
    return re.sub(r"^([a-z][a-z0-9+.-]*:/*[^:/@]*):[^@]*@", r"\1:***@", value)


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment (and `overrides`); `SettingsError` if any is unusable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
