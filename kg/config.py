"""All of kg's configuration: one `Settings`, read from `KG_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_HOOK_SECRET = "development-only-hook-secret"
DEV_TOKEN_KEY = "ZGV2ZWxvcG1lbnQtb25seS10b2tlbi1rZXktMzJieXQ="  # base64 of 32 bytes


class Settings(BaseSettings):
    """Configuration of one kg instance. Defaults run embedded, under `data_dir`."""

    model_config = SettingsConfigDict(env_prefix="KG_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path(".kg")
    store_url: str = ""
    """`oxigraph:///path` (embedded, on disk). Empty: `<data_dir>/store`."""
    event_log_url: str = ""
    """`sqlite:///path`. Empty: `<data_dir>/events.sqlite`."""
    base_iri: str = "https://kg.local/"
    """Prefix of every IRI kg mints; fixed for the life of an instance."""

    host: str = "127.0.0.1"
    port: int = 8080

    hook_secret: SecretStr = SecretStr(DEV_HOOK_SECRET)
    """Server secret that per-project webhook tokens are derived from."""
    git_token: SecretStr | None = None
    """Token for fetching private repositories over HTTP(S); never logged."""
    git_timeout_seconds: float = 900.0

    extractors: str = "all"
    """Tool extractors to run besides git history: all, none, or a comma list
    (renku, renku-legacy, dvc, datalad, rocrate, prov)."""
    worker_enabled: bool = True
    coalesce_seconds: float = 2.0
    """A project is ingested this long after the first push of a burst."""
    worker_lease_seconds: float = 300.0
    worker_poll_seconds: float = 1.0
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    max_attempts: int = 6

    sparql_workers: int = 2
    sparql_timeout_seconds: float = 30.0
    sparql_max_result_bytes: int = 64 * 1024 * 1024

    oidc_issuer: str = ""
    """Keycloak realm URL (e.g. https://id.example/realms/kg); empty: no OIDC tokens."""
    oidc_audience: str = ""
    oidc_user_claim: str = "sub"
    """The claim holding the user id that project memberships use."""
    gitlab_url: str = ""
    """GitLab's base URL, for token checks and project members; empty: no GitLab."""
    gitlab_token: SecretStr | None = None
    """A GitLab token kg uses to read projects' visibility and members."""
    auth_cache_seconds: float = 60.0
    access_refresh_seconds: float = 900.0
    """How often every project's visibility and members are read again from GitLab."""
    public_url: str = ""
    """How GitLab reaches kg (for the webhooks kg creates). Empty: http://host:port."""
    token_key: SecretStr = SecretStr(DEV_TOKEN_KEY)
    """Fernet key that stored access tokens are encrypted with."""

    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment != "development" and (self.hook_secret.get_secret_value() == DEV_HOOK_SECRET):
            raise ValueError("KG_HOOK_SECRET must be set outside development")
        if self.environment != "development" and self.token_key.get_secret_value() == DEV_TOKEN_KEY:
            raise ValueError("KG_TOKEN_KEY must be set outside development")
        if not self.base_iri.endswith(("/", "#")):
            raise ValueError("KG_BASE_IRI must end with '/' or '#'")
        return self

    @property
    def store_path(self) -> Path:
        """The on-disk location of the embedded store."""
        if not self.store_url:
            return self.data_dir / "store"
        scheme, _, rest = self.store_url.partition("://")
        if scheme != "oxigraph":
            raise ValueError(f"unsupported KG_STORE_URL scheme: {scheme!r}")
        return Path(rest)

    @property
    def event_log_path(self) -> Path:
        """The SQLite file of the embedded event log."""
        if not self.event_log_url:
            return self.data_dir / "events.sqlite"
        scheme, _, rest = self.event_log_url.partition("://")
        if scheme != "sqlite":
            raise ValueError(f"unsupported KG_EVENT_LOG_URL scheme: {scheme!r}")
        # SQLAlchemy's convention: sqlite:///relative, sqlite:////absolute
        return Path(rest[1:])

    @property
    def hook_url(self) -> str:
        """The webhook URL kg registers at GitLab."""
        base = self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"
        return f"{base}/webhooks/events"

    @property
    def mirrors_dir(self) -> Path:
        """Where bare mirrors of fetched repositories are kept."""
        return self.data_dir / "mirrors"
