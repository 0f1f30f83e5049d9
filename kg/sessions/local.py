"""The local session backend (the embedded default): one process per session on this machine.

A session is a clone of the project's repository at the commit under
`<data dir>/sessions/<name>/work`, with `KG_SESSIONS_COMMAND` running there on a free
loopback port with a random token; its output goes to `output.log` and what kg must know
after a restart (pid and the kernel's start time of that pid, port, token, spec) to
`state.json` beside it. A pid alone is not an identity (pids are reused), so a process is
only taken for the session's, and only ever signalled, when its start time matches too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from kg.config import Settings
from kg.errors import NotFound
from kg.pipeline.fetch import run_git
from kg.sessions.base import Resources, Session, SessionConflict, SessionSpec, SessionStatus
from kg.urls import origin

LOG_READ_BYTES = 4 << 20
"""The most of a session's log read to answer one logs request."""
STOP_GRACE_SECONDS = 5.0
_SAME = ("user", "project_id", "commit_sha", "branch", "image", "resources", "default_url")
"""What must agree for a start to be the same session again (not the token or clone URL)."""


_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
"""Sessions this process started, by pid: only their parent can learn their exit code (and
must reap them). Process-wide, not per backend object, since they outlive the object."""


def _start_time(pid: int) -> str | None:
    """The kernel's start time of a live (not zombie) process, or None if there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()  # the command name may hold spaces and ')'
    return None if fields[0] in ("Z", "X") else fields[19]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _child_environment() -> dict[str, str]:
    """kg's environment without its own settings: kg's tokens never reach a session."""
    return {k: v for k, v in os.environ.items() if not k.startswith("KG_")}


class LocalBackend:
    """Sessions as processes of this machine (see the module's docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.root = settings.data_dir / "sessions"
        self.command = settings.sessions_command
        self.public_url = settings.sessions_url.rstrip("/")
        self.git_timeout = settings.git_timeout_seconds

    # -- state on disk -------------------------------------------------------------------

    def _folder(self, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise NotFound("session", name)
        return self.root / name

    def _state(self, name: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = json.loads((self._folder(name) / "state.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return found

    def _save(self, name: str, state: dict[str, Any]) -> None:
        path = self._folder(name) / "state.json"
        staged = path.with_suffix(".tmp")
        staged.write_text(json.dumps(state), "utf-8")
        staged.chmod(0o600)  # it holds the session's token
        staged.replace(path)

    # -- the process ---------------------------------------------------------------------

    def _alive(self, state: dict[str, Any]) -> bool:
        child = _CHILDREN.get(state["pid"])
        if child is not None and child.poll() is not None:
            return False
        return bool(_start_time(state["pid"]) == state["pid_start"])

    def _exit_message(self, state: dict[str, Any]) -> str:
        child = _CHILDREN.get(state["pid"])
        code = child.poll() if child is not None else state.get("exit_code")
        if code is not None and state.get("exit_code") != code:
            self._save(state["name"], {**state, "exit_code": code})
        return f"the process exited with code {code}" if code is not None else "the process is gone"

    async def _status(self, state: dict[str, Any]) -> SessionStatus:
        if not self._alive(state):
            return SessionStatus("failed", self._exit_message(state), 0, 1)
        address = f"http://127.0.0.1:{state['port']}{state['base_url']}"
        try:
            async with httpx.AsyncClient(timeout=1.0) as client:
                await client.get(address)
        except httpx.HTTPError:
            return SessionStatus("starting", "waiting for the server to answer", 0, 1)
        return SessionStatus("running", "", 1, 1)

    def _url(self, state: dict[str, Any]) -> str:
        base = self.public_url or f"http://127.0.0.1:{state['port']}"
        page = state["base_url"] + state["spec"]["default_url"].lstrip("/")
        return f"{base}{page}?token={state['token']}"

    async def _session(self, state: dict[str, Any]) -> Session:
        spec = state["spec"]
        return Session(
            name=state["name"],
            user=spec["user"],
            project_id=spec["project_id"],
            project_path=spec["project_path"],
            commit_sha=spec["commit_sha"],
            branch=spec["branch"],
            image=spec["image"],
            url=self._url(state),
            started=state["started"],
            resources=Resources(**spec["resources"]),
            status=await self._status(state),
        )

    # -- starting ------------------------------------------------------------------------

    def _git(self, args: list[str], url: str, token: str | None, cwd: Path | None = None) -> None:
        run_git(
            args,
            url,
            token=token,
            forge=origin(url),
            protocols=("file", "http", "https"),
            timeout=self.git_timeout,
            cwd=cwd,
        )

    def _checkout(self, spec: SessionSpec, work: Path) -> None:
        """Clone the project into `work` and check out the commit (on `branch` if named).

        A clone, not a worktree of the mirror: the worker may replace a broken mirror, which
        would orphan a worktree; a local clone hard-links the mirror's objects, so it is cheap.
        """
        url = spec.clone_url
        self._git(["clone", "--quiet", "--no-checkout", "--", url, str(work)], url, spec.token)
        if spec.branch:
            self._git(["check-ref-format", "--branch", spec.branch], spec.clone_url, None, work)
            checkout = ["checkout", "--quiet", "-B", spec.branch, spec.commit_sha, "--"]
        else:
            checkout = ["checkout", "--quiet", "--detach", spec.commit_sha, "--"]
        self._git(checkout, spec.clone_url, None, work)

    def _clear_abandoned(self, folder: Path) -> None:
        """Remove a folder a start left without state (kg was killed while cloning): once it
        is older than the longest clone, no start is still working in it."""
        try:
            age = time.time() - folder.stat().st_mtime
        except FileNotFoundError:
            return
        if not (folder / "state.json").exists() and age > self.git_timeout + 60:
            shutil.rmtree(folder, ignore_errors=True)

    def _launch(self, spec: SessionSpec) -> dict[str, Any]:
        folder = self._folder(spec.name)
        self._clear_abandoned(folder)
        folder.mkdir(parents=True)  # fails if another start holds the name
        try:
            work = folder / "work"
            self._checkout(spec, work)
            port, token, base_url = _free_port(), secrets.token_urlsafe(24), f"/sessions/{spec.name}/"
            fill = {"port": port, "token": token, "base_url": base_url}
            argv = [part.format(**fill) for part in shlex.split(self.command)]  # never a shell
            with (folder / "output.log").open("ab") as log:
                child = subprocess.Popen(
                    argv,
                    cwd=work,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=_child_environment(),
                    start_new_session=True,  # its own process group: stop kills all of it
                )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        _CHILDREN[child.pid] = child
        kept = {k: v for k, v in asdict(spec).items() if k not in ("token", "clone_url")}
        state = {
            "name": spec.name,
            "spec": kept,
            "pid": child.pid,
            "pid_start": _start_time(child.pid),
            "port": port,
            "token": token,
            "base_url": base_url,
            "started": time.time(),
        }
        self._save(spec.name, state)
        return state

    async def start(self, spec: SessionSpec) -> Session:
        """Clone, then start the command; the same spec again returns the running session."""
        state = self._state(spec.name)
        if state is None:
            try:
                state = await asyncio.to_thread(self._launch, spec)
            except FileExistsError:  # a start of the same name ran at the same time
                state = self._state(spec.name)
                if state is None:
                    raise SessionConflict(f"session {spec.name!r} is being started") from None
        asked = {k: v for k, v in asdict(spec).items() if k in _SAME}
        if {k: state["spec"][k] for k in _SAME} != asked:
            raise SessionConflict(f"session {spec.name!r} exists with another image or resources")
        return await self._session(state)

    # -- the rest of the interface -------------------------------------------------------

    async def get(self, name: str) -> Session | None:
        """The session of that name, or None."""
        state = self._state(name)
        return None if state is None else await self._session(state)

    async def list(self, user: str) -> list[Session]:
        """The user's sessions, oldest first."""
        if not self.root.is_dir():
            return []
        found = [s for f in self.root.iterdir() if (s := self._state(f.name)) and s["spec"]["user"] == user]
        return [await self._session(s) for s in sorted(found, key=lambda s: s["started"])]

    def _kill(self, state: dict[str, Any]) -> None:
        """Stop the session's process group: SIGTERM, then SIGKILL after a grace period."""
        for sent in (signal.SIGTERM, signal.SIGKILL):
            if not self._alive(state):
                return
            os.killpg(state["pid"], sent)  # its own group (start_new_session)
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            while time.monotonic() < deadline and self._alive(state):
                time.sleep(0.05)

    def _remove(self, name: str) -> None:
        state = self._state(name)
        if state is not None:
            with contextlib.suppress(ProcessLookupError):  # it ended between check and signal
                self._kill(state)
            child = _CHILDREN.pop(state["pid"], None)
            if child is not None:
                child.wait()
        shutil.rmtree(self._folder(name), ignore_errors=True)

    async def stop(self, name: str) -> None:
        """Kill the process group and remove the clone; nothing if the session is gone."""
        await asyncio.to_thread(self._remove, name)

    def _tail(self, name: str, max_lines: int) -> str:
        path = self._folder(name) / "output.log"
        try:
            with path.open("rb") as log:
                size = log.seek(0, os.SEEK_END)
                log.seek(max(0, size - LOG_READ_BYTES))
                raw = log.read(LOG_READ_BYTES)
        except FileNotFoundError:
            raise NotFound("session", name) from None
        lines = raw.decode("utf-8", "replace").splitlines(keepends=True)
        return "".join(lines[-max_lines:]) if max_lines > 0 else ""

    async def logs(self, name: str, max_lines: int) -> str:
        """The last `max_lines` lines of the session's output (from its last 4 MiB)."""
        if self._state(name) is None:
            raise NotFound("session", name)
        return await asyncio.to_thread(self._tail, name, max_lines)

    async def close(self) -> None:
        """Nothing to release: the sessions outlive kg."""
