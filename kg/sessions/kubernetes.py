"""The Kubernetes session backend: creates and reads a session's resources through
lightkube's `AsyncClient`; the kubelet or the Amalthea operator does the rest.

Every resource of a session carries its labels and annotations (kg.sessions.manifests), so
the main one (Pod, AmaltheaSession or JupyterServer) gives the whole `Session` back; status
comes from what Kubernetes or the operator wrote into it.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import httpx2
from lightkube import AsyncClient, codecs
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.core_v1 import Pod, Secret, Service
from lightkube.resources.networking_v1 import Ingress

from kg.config import Settings
from kg.errors import InvalidInput, KgError, NotFound, Unavailable
from kg.sessions.base import Session, SessionConflict, SessionSpec, SessionStatus
from kg.sessions.kubernetes_access import PERMISSIONS, kube_config
from kg.sessions.kubernetes_status import (
    amalthea_status,
    created_at,
    jupyter_server_status,
    pod_status,
    session_from,
)
from kg.sessions.manifests import (
    MAIN_CONTAINER,
    MANAGED,
    PREFIX,
    fingerprint,
    notebook_token,
    secret,
    secret_name,
    session_url,
    user_label,
)
from kg.sessions.manifests_amalthea import GROUP, VERSION, amalthea_session, jupyter_server
from kg.sessions.manifests_pod import ingress, pod, service

Manifest = dict[str, Any]
__all__ = ["PERMISSIONS", "KubernetesBackend"]

AmaltheaSession = create_namespaced_resource(GROUP, VERSION, "AmaltheaSession", "amaltheasessions")
JupyterServer = create_namespaced_resource(GROUP, VERSION, "JupyterServer", "jupyterservers")

LOG_LINE_MAX = 4096
"""A log line longer than this is cut: `logs` is bounded by lines and by their length."""


def _status_code(exc: httpx2.HTTPStatusError) -> int:
    return exc.response.status_code


class KubernetesBackend:
    """Sessions as Kubernetes resources in KG_SESSIONS_NAMESPACE, of KG_SESSIONS_KIND."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.kind = settings.sessions_kind
        self.namespace = settings.sessions_namespace
        self._client: AsyncClient | None = None

    @property
    def client(self) -> AsyncClient:
        if self._client is None:
            self._client = AsyncClient(kube_config(self.settings), namespace=self.namespace)
        return self._client

    @property
    def _main(self) -> Any:
        """The lightkube class of the resource a session is."""
        return {"pod": Pod, "amaltheasession": AmaltheaSession, "jupyterserver": JupyterServer}[self.kind]

    @asynccontextmanager
    async def _api(self, doing: str) -> AsyncIterator[None]:
        """Map what the API server (or its absence) says to kg's errors."""
        try:
            yield
        except httpx2.HTTPStatusError as exc:
            code = _status_code(exc)
            if code == 404:
                raise NotFound("session resource", doing) from exc
            if code == 409:
                raise SessionConflict(f"{doing}: the resource exists already") from exc
            if code in (400, 422):
                raise InvalidInput(f"Kubernetes rejected {doing}: {exc}") from exc
            raise Unavailable(f"the Kubernetes API answered {code} to {doing}") from exc
        except httpx2.TransportError as exc:
            server = getattr(getattr(self._client, "_client", None), "base_url", "")
            raise Unavailable(f"the Kubernetes API server {server} does not answer ({doing})") from exc

    def _manifests(self, spec: SessionSpec, started: float) -> list[Manifest]:
        """The main resource first, then what goes with it."""
        if self.kind == "amaltheasession":
            return [amalthea_session(spec, self.settings, started)]
        if self.kind == "jupyterserver":
            return [jupyter_server(spec, self.settings, started)]
        made = [pod(spec, self.settings, started), service(spec, started)]
        if self.settings.sessions_url:
            made.append(ingress(spec, self.settings, started))
        return made

    def manifests(self, spec: SessionSpec, started: float) -> list[Manifest]:
        """Everything `start` creates, the Secret first (for validation and inspection)."""
        return [secret(spec, self.settings, started), *self._manifests(spec, started)]

    def _session(self, raw: Manifest) -> Session:
        meta: Manifest = raw.get("metadata") or {}
        status_raw: Manifest = raw.get("status") or {}
        status: SessionStatus
        url = session_url(self.settings, str(meta.get("name")))
        if self.kind == "amaltheasession":
            status = amalthea_status(status_raw)
            url = str(status_raw.get("url") or url)
        elif self.kind == "jupyterserver":
            status = jupyter_server_status(status_raw)
            url = str((status_raw.get("create_fn") or {}).get("fullServerURL") or url)
        else:
            containers = (raw.get("spec") or {}).get("containers") or []
            status = pod_status(status_raw, len(containers))
        if self.kind != "jupyterserver":  # whose operator does its own authentication
            # Jupyter logs in whoever brings the token, and keeps them in a cookie
            url += "?" + urlencode({"token": notebook_token(self.settings, str(meta.get("name")))})
        return session_from(meta, status, url)

    async def _read(self, name: str) -> Manifest | None:
        try:
            async with self._api(f"reading session {name}"):
                found = await self.client.get(self._main, name, namespace=self.namespace)
        except NotFound:
            return None
        return dict(found.to_dict())

    async def get(self, name: str) -> Session | None:
        raw = await self._read(name)
        return None if raw is None else self._session(raw)

    async def start(self, spec: SessionSpec) -> Session:
        existing = await self._read(spec.name)
        if existing is None:
            # a concurrent start may have made it: compared below like any existing one
            with contextlib.suppress(SessionConflict):
                await self._create(spec)
            existing = await self._read(spec.name)
            if existing is None:
                raise Unavailable(f"session {spec.name} vanished while it was started")
        notes = (existing.get("metadata") or {}).get("annotations") or {}
        if notes.get(f"{PREFIX}fingerprint") != fingerprint(spec):
            raise SessionConflict(f"session {spec.name} exists with another image, resources or project")
        return self._session(existing)

    async def _create(self, spec: SessionSpec) -> None:
        started = time.time()
        token = secret(spec, self.settings, started)
        async with self._api(f"creating the clone secret of {spec.name}"):
            try:
                await self.client.create(self._object(token))
            except httpx2.HTTPStatusError as exc:
                if _status_code(exc) != 409:
                    raise
                # left by a start that failed half-way: take it over with this token
                await self.client.patch(
                    Secret, secret_name(spec.name), {"data": token["data"]}, namespace=self.namespace
                )
        try:
            main, *others = self._manifests(spec, started)
            async with self._api(f"creating session {spec.name}"):
                made = await self.client.create(self._object(main))
            for manifest in others:
                # named after the session: one that exists is left by an earlier start of it
                with contextlib.suppress(SessionConflict):
                    async with self._api(f"creating the {manifest['kind']} of {spec.name}"):
                        await self.client.create(self._object(manifest))
        except SessionConflict:
            raise
        except KgError:
            await self.stop(spec.name)  # creates nothing that outlives a failed start
            raise
        await self._own_secret(spec.name, made)

    def _object(self, manifest: Manifest) -> Any:
        """The lightkube object of a manifest (its class from apiVersion and kind), in the
        sessions' namespace."""
        placed = {**manifest, "metadata": {**manifest["metadata"], "namespace": self.namespace}}
        return codecs.from_dict(placed)

    async def _own_secret(self, name: str, made: Any) -> None:
        """Make the Secret a child of the session, so the cluster deletes it with it even when
        `stop` is not called (stop deletes it too, e.g. where no garbage collector runs)."""
        uid = made.metadata.uid if made.metadata else None
        if not uid:
            return
        owner = {"apiVersion": made.apiVersion, "kind": made.kind, "name": name, "uid": uid}
        async with self._api(f"linking the clone secret of {name}"):
            await self.client.patch(
                Secret,
                secret_name(name),
                {"metadata": {"ownerReferences": [owner]}},
                namespace=self.namespace,
            )

    async def list(self, user: str) -> list[Session]:
        selector: dict[str, Any] = {**MANAGED, f"{PREFIX}user": user_label(user)}
        async with self._api(f"listing the sessions of {user}"):
            found = [dict(item.to_dict()) async for item in self.client.list(self._main, labels=selector)]
        # the label may be a hash, and a selector is only a hint to a server: the annotation decides
        mine = [self._session(raw) for raw in found if self._annotation(raw, "user") == user]
        return sorted(mine, key=lambda session: session.started)

    @staticmethod
    def _annotation(raw: Manifest, key: str) -> str | None:
        value = ((raw.get("metadata") or {}).get("annotations") or {}).get(f"{PREFIX}{key}")
        return None if value is None else str(value)

    async def stop(self, name: str) -> None:
        kinds: list[Any] = [self._main]
        if self.kind == "pod":
            kinds += [Service, Ingress]
        for kind, resource in [*((k, name) for k in kinds), (Secret, secret_name(name))]:
            try:
                async with self._api(f"deleting the {kind.__name__} of {name}"):
                    await self.client.delete(kind, resource, namespace=self.namespace)
            except NotFound:
                continue

    async def watch(self, name: str, timeout: float) -> AsyncIterator[Session | None]:
        """The session each time the API server reports a change of it (None: deleted),
        for at most `timeout` seconds; for whoever waits until a session runs."""
        fields: dict[str, Any] = {"metadata.name": name}
        stream = aiter(self.client.watch(self._main, namespace=self.namespace, fields=fields))
        deadline = time.monotonic() + timeout
        try:
            while (remaining := deadline - time.monotonic()) > 0:
                try:
                    async with self._api(f"watching session {name}"):
                        change, item = await asyncio.wait_for(anext(stream), remaining)
                except (TimeoutError, StopAsyncIteration):
                    return
                raw = dict(item.to_dict())
                if (raw.get("metadata") or {}).get("name") != name:
                    continue  # a field selector is a hint to a server, as labels are
                yield None if change == "DELETED" else self._session(raw)
        finally:
            closing = getattr(stream, "aclose", None)
            if closing is not None:
                await closing()

    async def _session_pod(self, name: str) -> tuple[str, str] | None:
        """The pod that runs the session and its main container's name, or None."""
        if self.kind == "pod":
            return (name, MAIN_CONTAINER) if await self._read(name) is not None else None
        async with self._api(f"finding the pod of {name}"):
            pods = [p async for p in self.client.list(Pod, labels=dict[str, Any]({f"{PREFIX}session": name}))]
        for found in pods:
            if (
                found.metadata
                and found.metadata.labels
                and found.metadata.labels.get(f"{PREFIX}session") == name
            ):
                containers = found.spec.containers if found.spec else []
                return str(found.metadata.name), containers[0].name if containers else ""
        return None

    async def logs(self, name: str, max_lines: int) -> str:
        where = await self._session_pod(name)
        if where is None:
            if await self._read(name) is None:
                raise NotFound("session", name)
            return ""  # the operator has not made its pod yet
        pod_name, container = where
        lines: list[str] = []
        try:
            async with self._api(f"reading the logs of {name}"):
                async for line in self.client.log(
                    pod_name, namespace=self.namespace, container=container or None, tail_lines=max_lines
                ):
                    lines.append(line[:LOG_LINE_MAX])
        except NotFound:
            return ""  # the pod is there but its container has not started
        return "".join(lines[-max_lines:])

    async def cull(self, max_age: float, now: float | None = None) -> builtins.list[str]:
        """Stop every session kg made that is older than `max_age` seconds (creation time from
        the API server); returns their names. For the kinds that cannot cull themselves."""
        now = time.time() if now is None else now
        async with self._api("listing sessions to cull"):
            found = [
                dict(item.to_dict())
                async for item in self.client.list(self._main, labels=dict[str, Any](MANAGED))
            ]
        old: builtins.list[str] = [
            str(raw["metadata"]["name"])
            for raw in found
            if self._annotation(raw, "fingerprint") and now - created_at(raw["metadata"]) > max_age
        ]
        for name in old:
            await self.stop(name)
        return old

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await asyncio.shield(client.close())
