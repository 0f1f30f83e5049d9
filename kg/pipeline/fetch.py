"""Bare mirrors of project repositories, one per project, under the data dir.

Credentials reach git through `GIT_CONFIG_*` environment variables (an HTTP header), so
they never appear in a URL, on a command line, in a log line or in an error message.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from kg.errors import FetchFailed

# What git prints when the remote is reachable but the repository is not there (or not for us):
# retrying will not help until something changes at the forge, which will send a new event.
_PERMANENT = re.compile(
    r"not found|does not appear to be a git repository|repository .* does not exist"
    r"|authentication failed|could not read username|access denied|invalid path",
    re.IGNORECASE,
)
_CORRUPT = re.compile(
    r"bad object|corrupt|broken link|missing blob|did not send all necessary objects", re.IGNORECASE
)


def redact_url(url: str) -> str:
    """The URL without any user or password in it.

    >>> redact_url("https://oauth2:s3cret@gitlab.example/g/p.git")
    'https://gitlab.example/g/p.git'
    """
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def git_environment(url: str, token: str | None) -> dict[str, str]:
    """Environment for a git subprocess: never prompt, and authenticate HTTP with `token`."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "LC_ALL": "C"}
    if token and urlsplit(url).scheme in ("http", "https"):
        basic = base64.b64encode(f"oauth2:{token}".encode()).decode()
        env.update(
            GIT_CONFIG_COUNT="1",
            GIT_CONFIG_KEY_0="http.extraHeader",
            GIT_CONFIG_VALUE_0=f"Authorization: Basic {basic}",
        )
    return env


def _scrub(text: str, url: str, token: str | None) -> str:
    for secret in filter(None, [url, token]):
        text = text.replace(secret, redact_url(secret) if secret == url else "***")
    return text


class Mirrors:
    """The bare mirrors kept under one directory."""

    def __init__(self, root: Path, *, token: str | None = None, timeout: float = 900.0) -> None:
        self.root = root
        self._token = token
        self._timeout = timeout

    def path(self, project_id: int | str) -> Path:
        """Where the mirror of a project lives."""
        return self.root / f"{project_id}.git"

    def _git(self, args: list[str], url: str, cwd: Path | None = None, token: str | None = None) -> None:
        token = token or self._token
        command = ["git", *args]
        shown = [redact_url(a) if a == url else a for a in command]
        try:
            done = subprocess.run(
                command,
                cwd=cwd,
                env=git_environment(url, token),
                capture_output=True,
                timeout=self._timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise FetchFailed(shown, -1, f"timed out after {self._timeout:.0f}s", recoverable=True) from exc
        if done.returncode != 0:
            stderr = _scrub(done.stderr.decode("utf-8", "replace"), url, token)
            raise FetchFailed(
                shown,
                done.returncode,
                stderr,
                recoverable=not (_PERMANENT.search(stderr) or _CORRUPT.search(stderr)),
            )

    def sync(self, project_id: int | str, url: str, token: str | None = None) -> Path:
        """Clone the mirror once, fetch into it afterwards; a broken mirror is cloned anew.

        `token` (a project's own access token) takes the place of the instance's one.
        """
        target = self.path(project_id)
        if target.exists():
            try:
                self._git(["remote", "set-url", "origin", url], url, cwd=target, token=token)
                self._git(["fetch", "--prune", "--quiet", "origin"], url, cwd=target, token=token)
                return target
            except FetchFailed as exc:
                if exc.recoverable:
                    raise
                # Our own mirror may be what is broken: start over from a fresh clone.
                shutil.rmtree(target)
        self.root.mkdir(parents=True, exist_ok=True)
        # Clone next to the target and rename, so a killed clone never looks like a mirror.
        staging = Path(tempfile.mkdtemp(prefix=f".{project_id}-", dir=self.root))
        try:
            self._git(["clone", "--mirror", "--quiet", url, str(staging / "m.git")], url, token=token)
            (staging / "m.git").rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target
