"""What the Kubernetes backend needs from the cluster: its credentials (a kubeconfig file or
the pod's service account) and the permissions it uses, which the chart's Role grants."""

from __future__ import annotations

from lightkube import KubeConfig
from lightkube.core.exceptions import ConfigError

from kg.config import Settings
from kg.errors import Unavailable
from kg.sessions.manifests_amalthea import GROUP

PERMISSIONS: dict[str, dict[tuple[str, str], tuple[str, ...]]] = {
    "pod": {
        ("", "pods"): ("create", "get", "list", "watch", "delete"),
        ("", "pods/log"): ("get",),
        ("", "services"): ("create", "delete"),
        ("networking.k8s.io", "ingresses"): ("create", "delete"),
        ("", "secrets"): ("create", "patch", "delete"),
    },
    "amaltheasession": {
        (GROUP, "amaltheasessions"): ("create", "get", "list", "watch", "delete"),
        ("", "pods"): ("list",),
        ("", "pods/log"): ("get",),
        ("", "secrets"): ("create", "patch", "delete"),
    },
    "jupyterserver": {
        (GROUP, "jupyterservers"): ("create", "get", "list", "watch", "delete"),
        ("", "pods"): ("list",),
        ("", "pods/log"): ("get",),
        ("", "secrets"): ("create", "patch", "delete"),
    },
}
"""(API group, resource) → verbs the backend uses for each kind: what the chart's Role grants
(tests/charts checks it grants no more)."""


def kube_config(settings: Settings) -> KubeConfig:
    try:
        if settings.sessions_kubeconfig:
            return KubeConfig.from_file(settings.sessions_kubeconfig)
        return KubeConfig.from_service_account()
    except (ConfigError, OSError) as exc:
        where = settings.sessions_kubeconfig or "the pod's service account"
        raise Unavailable(f"no Kubernetes configuration in {where}: {exc}") from exc
