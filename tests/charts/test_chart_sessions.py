"""charts/kg with sessions: the KG_SESSIONS_* settings from the `sessions` values, a Role in
the sessions' namespace granting exactly what the Kubernetes backend uses, bound to kg's
ServiceAccount, and the API token mounted only where sessions are started and culled."""

from __future__ import annotations

import os

import kubernetes_validate
import pytest

from kg.config import Settings, load_settings
from kg.sessions.kubernetes import PERMISSIONS
from tests.charts.rendering import Helm, Manifest, by_component, environment, of_kind, values_file

KUBERNETES = "1.31.0"  # as tests/charts/test_chart.py
KINDS = sorted(PERMISSIONS)


def sessions(helm: Helm, mode: str = "sessions", **sets: str) -> list[Manifest]:
    return helm.manifests(values_file(mode), sets={"sessions.enabled": "true", **sets})


def granted(role: Manifest) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


@pytest.mark.parametrize("kind", KINDS)
def test_the_role_grants_exactly_what_the_backend_uses(helm: Helm, kind: str) -> None:
    manifests = sessions(helm, **{"sessions.kind": kind, "sessions.namespace": "notebooks"})
    (role,) = of_kind(manifests, "Role")
    assert role["metadata"]["namespace"] == "notebooks"
    needed = {
        (group, resource, verb) for (group, resource), verbs in PERMISSIONS[kind].items() for verb in verbs
    }
    assert granted(role) == needed
    assert not of_kind(manifests, "ClusterRole")
    for manifest in manifests:
        kubernetes_validate.validate(manifest, KUBERNETES, strict=True)


def test_the_binding_names_kg_s_service_account(helm: Helm) -> None:
    manifests = sessions(helm)
    (binding,) = of_kind(manifests, "RoleBinding")
    (account,) = of_kind(manifests, "ServiceAccount")
    (role,) = of_kind(manifests, "Role")
    assert binding["metadata"]["namespace"] == role["metadata"]["namespace"] == "kg-sessions"
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": "kg"}
    ]


@pytest.mark.parametrize(
    ("mode", "with_token"),
    [("sessions", {"api", "scheduler"}), ("default", {"serve"})],
    ids=["fleet", "embedded"],
)
def test_only_the_roles_that_start_or_cull_sessions_mount_the_api_token(
    helm: Helm, mode: str, with_token: set[str]
) -> None:
    deployments = by_component(sessions(helm, mode), "Deployment")
    mounted = {
        name
        for name, d in deployments.items()
        if d["spec"]["template"]["spec"]["automountServiceAccountToken"]
    }
    assert mounted == with_token


def test_local_sessions_or_none_bind_no_role_and_mount_no_token(helm: Helm) -> None:
    for sets in ({"sessions.enabled": "false"}, {"sessions.backend": "local"}):
        manifests = sessions(helm, **sets)
        assert not of_kind(manifests, "Role")
        assert not of_kind(manifests, "RoleBinding")
        for deployment in of_kind(manifests, "Deployment"):
            assert deployment["spec"]["template"]["spec"]["automountServiceAccountToken"] is False


def test_the_values_become_kg_settings_kg_accepts(helm: Helm, monkeypatch: pytest.MonkeyPatch) -> None:
    env = environment(
        sessions(
            helm,
            **{
                "sessions.kind": "amaltheasession",
                "sessions.limits.cpu": "2",
                "sessions.culling.maxAgeSeconds": "7200",
            },
        )
    )
    for name in [n for n in os.environ if n.startswith("KG_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings: Settings = load_settings()
    assert settings.sessions_backend == "kubernetes"
    assert settings.sessions_kind == "amaltheasession"
    assert settings.sessions_namespace == "kg-sessions"
    assert settings.sessions_max_cpu == 2.0
    assert settings.sessions_max_age_seconds == 7200.0
    assert settings.sessions_allowed_images == "quay.io/jupyter/scipy-notebook:2024-12-09"
    assert settings.sessions_url == "https://sessions.example.org"


def test_a_sessions_setting_in_config_is_refused(helm: Helm) -> None:
    result = helm.template(values_file("sessions"), sets={"config.sessions_kind": "pod"})
    assert result.returncode != 0
    assert "comes from the `sessions` values" in result.stderr


def test_an_unknown_kind_is_refused_by_the_schema(helm: Helm) -> None:
    result = helm.template(values_file("sessions"), sets={"sessions.kind": "deployment"})
    assert result.returncode != 0
    assert "kind" in result.stderr
