"""The `pod` kind: a Pod (init container cloning the project, Jupyter as the main container),
a Service in front of it, and an Ingress when KG_SESSIONS_URL gives sessions a public host."""

from __future__ import annotations

from kg.config import Settings
from kg.sessions.base import SessionSpec
from kg.sessions.manifests import (
    MAIN_CONTAINER,
    PORT,
    PREFIX,
    SESSION_GID,
    WORKSPACE,
    Manifest,
    base_path,
    clone_container,
    container_resources,
    ingress_host,
    jupyter_command,
    jupyter_token_env,
    metadata,
)

VOLUME = "workspace"


def pod(spec: SessionSpec, settings: Settings, started: float) -> Manifest:
    main: Manifest = {
        "name": MAIN_CONTAINER,
        "image": spec.image,
        "command": jupyter_command(spec),
        "workingDir": WORKSPACE,
        "env": [jupyter_token_env(spec.name)],
        "ports": [{"name": "http", "containerPort": PORT}],
        "resources": container_resources(spec.resources),
        "volumeMounts": [{"name": VOLUME, "mountPath": WORKSPACE}],
        "readinessProbe": {"httpGet": {"path": base_path(spec.name) + "api", "port": "http"}},
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata(spec, spec.name, started),
        "spec": {
            "restartPolicy": "Never",
            # a session has no business with the Kubernetes API
            "automountServiceAccountToken": False,
            "securityContext": {"fsGroup": SESSION_GID},  # the workspace volume is the users'
            "initContainers": [clone_container(spec, settings, VOLUME)],
            "containers": [main],
            "volumes": [{"name": VOLUME, "emptyDir": {}}],
        },
    }


def service(spec: SessionSpec, started: float) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(spec, spec.name, started),
        "spec": {
            "selector": {f"{PREFIX}session": spec.name},
            "ports": [{"name": "http", "port": PORT, "targetPort": "http"}],
        },
    }


def ingress(spec: SessionSpec, settings: Settings, started: float) -> Manifest:
    rule = {
        "host": ingress_host(settings),
        "http": {
            "paths": [
                {
                    "path": base_path(spec.name),
                    "pathType": "Prefix",
                    "backend": {"service": {"name": spec.name, "port": {"name": "http"}}},
                }
            ]
        },
    }
    body: Manifest = {"rules": [rule]}
    if settings.sessions_ingress_class:
        body["ingressClassName"] = settings.sessions_ingress_class
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata(spec, spec.name, started),
        "spec": body,
    }
