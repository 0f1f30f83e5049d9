"""Bare mirrors of project repositories, one per project, under the data dir.

git runs with a protocol allow-list (`GIT_ALLOW_PROTOCOL`), never follows an HTTP redirect,
and gets `--` before every URL and path, so a URL cannot become an option, a local path
or a command (`ext::`); its memory is capped like a job's, since a pack of a few KB can
stand for gigabytes of objects that `index-pack` must inflate. Credentials reach git
through `GIT_CONFIG_*` environment variables (an HTTP header), only when the URL's origin
is the forge's, so they never appear in a URL, on a command line, in a log line or in an
error message, and never leave for another host.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from kg.confined import limited
from kg.errors import FetchFailed
from kg.urls import origin, without_credentials

WEB = ("http", "https")
"""What a webhook's project may be fetched over."""

# What git prints when the remote is reachable but the repository is not there (or not for us):
# retrying will not help until something changes at the forge, which will send a new event.
_PERMANENT = re.compile(
    r"not found|does not appear to be a git repository|repository .* does not exist"
    r"|authentication failed|could not read username|access denied|invalid path"
    r"|transport .* not allowed|unsupported protocol|redirect|out of memory",
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
    return without_credentials(url) or "<unparsable URL>"


def git_environment(url: str, token: str | None, *, forge: str, protocols: tuple[str, ...]) -> dict[str, str]:
    """Environment for a git subprocess: never prompt, only `protocols`, never redirect, and
    authenticate with `token` only if `url` is on the `forge` origin."""
    config = {"http.followRedirects": "false", "core.hooksPath": os.devnull}
    if token and forge and origin(url) == forge:
        basic = base64.b64encode(f"oauth2:{token}".encode()).decode()
        config["http.extraHeader"] = f"Authorization: Basic {basic}"
    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "true",
        "LC_ALL": "C",
        "GIT_ALLOW_PROTOCOL": ":".join(protocols),
        "GIT_PROTOCOL_FROM_USER": "0",
        "GIT_CONFIG_COUNT": str(len(config)),
    }
    for i, (key, value) in enumerate(config.items()):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    return env


def _scrub(text: str, url: str, token: str | None) -> str:
    for secret in filter(None, [url, token]):
        text = text.replace(secret, redact_url(secret) if secret == url else "***")
    return text


def run_git(
    args: list[str],
    url: str,
    *,
    token: str | None,
    forge: str,
    protocols: tuple[str, ...],
    timeout: float,
    cwd: Path | None = None,
    memory: int | None = None,
) -> None:
    """Run `git ARGS` against `url`: the token only for `forge`, only `protocols`, bounded in
    time (and memory); a failure is `FetchFailed` with the URL and token scrubbed."""
    command = ["git", *args]
    shown = [redact_url(a) if a == url else a for a in command]
    env = git_environment(url, token, forge=forge, protocols=protocols)
    try:
        done = subprocess.run(
            command if memory is None else limited(command, memory),
            cwd=cwd,
            env=env,
            capture_output=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise FetchFailed(shown, -1, f"timed out after {timeout:.0f}s", recoverable=True) from exc
    if done.returncode != 0:
        stderr = _scrub(done.stderr.decode("utf-8", "replace"), url, token)
        raise FetchFailed(
            shown,
            done.returncode,
            stderr,
            recoverable=not (_PERMANENT.search(stderr) or _CORRUPT.search(stderr)),
        )


class Mirrors:
    """The bare mirrors kept under one directory.

    `token` (kg's own) and a project's stored token are sent only to `forge_origin`
    (scheme, host and port compared); `protocols` are the only transports git may use.
    """

    def __init__(
        self,
        root: Path,
        *,
        token: str | None = None,
        forge_origin: str = "",
        timeout: float = 900.0,
        protocols: tuple[str, ...] = WEB,
        memory_bytes: int | None = None,
    ) -> None:
        self.root = root
        self._token = token
        self._forge = forge_origin
        self._timeout = timeout
        self._protocols = protocols
        self._memory = memory_bytes

    def path(self, project_id: int | str) -> Path:
        """Where the mirror of a project lives."""
        return self.root / f"{project_id}.git"

    def _git(self, args: list[str], url: str, cwd: Path | None = None, token: str | None = None) -> None:
        run_git(
            args,
            url,
            token=token or self._token,
            forge=self._forge,
            protocols=self._protocols,
            timeout=self._timeout,
            cwd=cwd,
            memory=self._memory,
        )

    def sync(self, project_id: int | str, url: str, token: str | None = None) -> Path:
        """Clone the mirror once, fetch into it afterwards; a broken mirror is cloned anew.

        `token` (a project's own access token) takes the place of the instance's one.
        """
        target = self.path(project_id)
        if target.exists():
            try:
                self._git(["remote", "set-url", "--", "origin", url], url, cwd=target, token=token)
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
            self._git(["clone", "--mirror", "--quiet", "--", url, str(staging / "m.git")], url, token=token)
            (staging / "m.git").rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target
