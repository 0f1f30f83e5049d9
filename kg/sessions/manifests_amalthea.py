"""The Amalthea custom resources (amalthea.dev/v1alpha1): `AmaltheaSession` and the older
`JupyterServer`. The operator creates the pods, routing and culling from them; kg adds the
clone (an init container over a volume the session mounts) and passes its limits."""

from __future__ import annotations

from kg.config import Settings
from kg.sessions.base import SessionSpec
from kg.sessions.manifests import (
    PORT,
    WORKSPACE,
    Manifest,
    base_path,
    clone_container,
    container_resources,
    ingress_host,
    jupyter_command,
    jupyter_token_env,
    labels,
    metadata,
)

GROUP = "amalthea.dev"
VERSION = "v1alpha1"
VOLUME = "kg-workspace"
JUPYTER_SERVER_ROOT = f"{WORKSPACE}/project"
"""Where a JupyterServer shows the clone: the operator mounts the server's own storage at
WORKSPACE (storage.pvc.mountPath), so the clone's volume goes below it."""


def amalthea_session(spec: SessionSpec, settings: Settings, started: float) -> Manifest:
    """An AmaltheaSession: the session container, the clone as an init container, culling
    as Go durations (the operator hibernates a session past them)."""
    session: Manifest = {
        "image": spec.image,
        "command": jupyter_command(spec),
        "port": PORT,
        "urlPath": base_path(spec.name),
        "workingDir": WORKSPACE,
        "env": [jupyter_token_env(spec.name)],
        "resources": container_resources(spec.resources),
        "extraVolumeMounts": [{"name": VOLUME, "mountPath": WORKSPACE}],
    }
    body: Manifest = {
        "hibernated": False,
        "session": session,
        "initContainers": [clone_container(spec, settings, VOLUME)],
        "extraVolumes": [{"name": VOLUME, "emptyDir": {}}],
        "culling": {
            "maxAge": f"{int(settings.sessions_max_age_seconds)}s",
            "maxIdleDuration": f"{int(settings.sessions_idle_seconds)}s",
        },
        "template": {"metadata": {"labels": labels(spec)}},
    }
    if settings.sessions_url:
        ingress: Manifest = {"host": ingress_host(settings), "pathPrefix": base_path(spec.name)}
        if settings.sessions_ingress_class:
            ingress["ingressClassName"] = settings.sessions_ingress_class
        body["ingress"] = ingress
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AmaltheaSession",
        "metadata": metadata(spec, spec.name, started),
        "spec": body,
    }


def jupyter_server(spec: SessionSpec, settings: Settings, started: float) -> Manifest:
    """A JupyterServer: the operator renders a StatefulSet from it; the clone is added by
    JSON patches to that StatefulSet (its first container is the Jupyter server; its init
    containers are a list already, which the clone is appended to, as Renku's did)."""
    template = "/statefulset/spec/template/spec"
    patch = [
        # the pod carries the session's label: `logs` finds it by that
        {
            "op": "add",
            "path": "/statefulset/spec/template/metadata/labels/kg.dev~1session",
            "value": spec.name,
        },
        {"op": "add", "path": f"{template}/volumes/-", "value": {"name": VOLUME, "emptyDir": {}}},
        {
            "op": "add",
            "path": f"{template}/initContainers/-",
            "value": clone_container(spec, settings, VOLUME),
        },
        {
            "op": "add",
            "path": f"{template}/containers/0/volumeMounts/-",
            "value": {"name": VOLUME, "mountPath": JUPYTER_SERVER_ROOT},
        },
    ]
    body: Manifest = {
        "jupyterServer": {
            "image": spec.image,
            "defaultUrl": spec.default_url,
            "rootDir": JUPYTER_SERVER_ROOT,
            "resources": container_resources(spec.resources),
        },
        "routing": {"host": ingress_host(settings), "path": base_path(spec.name)},
        "culling": {
            "maxAgeSecondsThreshold": int(settings.sessions_max_age_seconds),
            "idleSecondsThreshold": int(settings.sessions_idle_seconds),
        },
        "storage": {"pvc": {"enabled": False}},
        "patches": [{"type": "application/json-patch+json", "patch": patch}],
    }
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "JupyterServer",
        "metadata": metadata(spec, spec.name, started),
        "spec": body,
    }
