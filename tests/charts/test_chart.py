"""charts/kg: lint, render every ci values file, validate each manifest against Kubernetes'
own schemas, and check what the rendering runs: roles, commands, probes, pod security."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from kg.config import Settings, load_settings
from tests.charts.rendering import (
    CHART,
    CI_VALUES,
    Helm,
    by_component,
    containers,
    environment,
    of_kind,
    values_file,
)

# One version, checked strictly (unknown fields are errors): that of the kubectl beside our helm.
KUBERNETES = "1.31.0"
FLEET_COMMANDS = {
    "api": ["kg", "api"],
    "webhooks": ["kg", "webhooks"],
    "worker": ["kg", "worker", "--concurrency", "2"],
    "scheduler": ["kg", "scheduler"],
}


def test_the_ci_values_cover_the_embedded_and_the_fleet_mode() -> None:
    assert {p.name for p in CI_VALUES} >= {"default-values.yaml", "fleet-values.yaml"}


@pytest.mark.parametrize("name", ["default", "fleet"])
def test_helm_lint_strict_passes(helm: Helm, name: str) -> None:
    result = helm.run("lint", "--strict", CHART, "-f", values_file(name))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.name)
def test_every_rendered_manifest_is_valid_kubernetes(helm: Helm, values: Path) -> None:
    manifests = helm.manifests(values)
    assert len(manifests) >= 5
    for manifest in manifests:
        kubernetes_validate.validate(manifest, KUBERNETES, strict=True)


def test_the_validation_catches_a_misspelt_field(helm: Helm) -> None:
    (deployment, *_) = of_kind(helm.manifests(values_file("default")), "Deployment")
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError, match="readinessProbes"):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def test_embedded_mode_is_one_serve_pod_on_a_claim(helm: Helm) -> None:
    manifests = helm.manifests(values_file("default"))
    deployments = by_component(manifests, "Deployment")
    assert list(deployments) == ["serve"]
    spec = deployments["serve"]["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}  # never two processes on one store
    pod = spec["template"]["spec"]
    assert pod["containers"][0]["command"] == ["kg", "serve"]
    (claim,) = of_kind(manifests, "PersistentVolumeClaim")
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["data"] == environment(manifests)["KG_DATA_DIR"]
    assert not of_kind(manifests, "HorizontalPodAutoscaler")


def test_embedded_mode_stays_one_pod_whatever_the_role_replicas_say(helm: Helm) -> None:
    sets = {"api.replicas": "5", "worker.replicas": "3"}
    (deployment,) = of_kind(helm.manifests(values_file("default"), sets=sets), "Deployment")
    assert deployment["spec"]["replicas"] == 1


def test_fleet_mode_runs_each_role_in_its_own_deployment(helm: Helm) -> None:
    manifests = helm.manifests(values_file("fleet"))
    deployments = by_component(manifests, "Deployment")
    assert {
        role: d["spec"]["template"]["spec"]["containers"][0]["command"] for role, d in deployments.items()
    } == (FLEET_COMMANDS)
    scaled = {h["spec"]["scaleTargetRef"]["name"] for h in of_kind(manifests, "HorizontalPodAutoscaler")}
    assert scaled == {deployments[role]["metadata"]["name"] for role in ("api", "webhooks", "worker")}
    for role, deployment in deployments.items():
        # an HPA owns the replica count; a fixed one in the Deployment would fight it
        assert ("replicas" in deployment["spec"]) == (role == "scheduler"), role
    assert not of_kind(manifests, "PersistentVolumeClaim")
    (worker,) = deployments["worker"]["spec"]["template"]["spec"]["containers"]
    assert {"name": "KG_METRICS_PORT", "value": "9090"} in worker["env"]
    assert worker["ports"] == [{"name": "metrics", "containerPort": 9090, "protocol": "TCP"}]


def test_fleet_routes_webhooks_to_the_receiver_and_the_rest_to_the_api(helm: Helm) -> None:
    manifests = helm.manifests(values_file("fleet"))
    services = {s["metadata"]["name"]: s for s in of_kind(manifests, "Service")}
    (ingress,) = of_kind(manifests, "Ingress")
    paths = {p["path"]: p["backend"]["service"]["name"] for p in ingress["spec"]["rules"][0]["http"]["paths"]}
    assert set(paths.values()) <= set(services)
    assert services[paths["/webhooks"]]["spec"]["selector"]["app.kubernetes.io/component"] == "webhooks"
    assert services[paths["/"]]["spec"]["selector"]["app.kubernetes.io/component"] == "api"


def test_embedded_ingress_sends_everything_to_the_serve_pod(helm: Helm) -> None:
    manifests = helm.manifests(values_file("default"), sets={"ingress.enabled": "true"})
    (ingress,) = of_kind(manifests, "Ingress")
    ((path,),) = [r["http"]["paths"] for r in ingress["spec"]["rules"]]
    (service,) = of_kind(manifests, "Service")
    assert path["path"] == "/"
    assert path["backend"]["service"]["name"] == service["metadata"]["name"]
    assert service["spec"]["selector"]["app.kubernetes.io/component"] == "serve"


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        ({"mode": "cluster"}, "mode must be one of"),
        ({"worker.concurrency": "0"}, "worker.concurrency: Must be greater than or equal to 1"),
        ({"secrets.hooksecret": "x"}, "Additional property hooksecret is not allowed"),
    ],
)
def test_values_outside_the_schema_are_refused(helm: Helm, sets: dict[str, str], message: str) -> None:
    result = helm.template(values_file("default"), sets=sets)
    assert result.returncode != 0
    assert message in result.stderr


def test_without_autoscaling_the_fleet_has_fixed_replicas(helm: Helm) -> None:
    sets = {f"{role}.autoscaling.enabled": "false" for role in ("api", "webhooks", "worker")}
    sets["worker.replicas"] = "7"
    manifests = helm.manifests(values_file("fleet"), sets={k: v for k, v in sets.items()})
    assert not of_kind(manifests, "HorizontalPodAutoscaler")
    assert by_component(manifests, "Deployment")["worker"]["spec"]["replicas"] == 7


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.name)
def test_pods_run_as_non_root_on_a_read_only_root_with_scratch_space(helm: Helm, values: Path) -> None:
    manifests = helm.manifests(values)
    sessions_on_kubernetes = environment(manifests).get("KG_SESSIONS_BACKEND") == "kubernetes"
    for deployment in of_kind(manifests, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        # the API token only where sessions are started, read and culled (tests/charts/test_chart_sessions.py)
        component = deployment["metadata"]["labels"]["app.kubernetes.io/component"]
        needs_api = sessions_on_kubernetes and component in ("serve", "api", "scheduler")
        assert pod["automountServiceAccountToken"] is needs_api
        assert "emptyDir" in {v["name"]: v for v in pod["volumes"]}["tmp"]
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert {"cpu", "memory"} <= set(container["resources"]["requests"])
            assert "/tmp" in {m["mountPath"] for m in container["volumeMounts"]}


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.name)
def test_http_roles_are_probed_on_health_and_ready(helm: Helm, values: Path) -> None:
    manifests = helm.manifests(values)
    port = int(environment(manifests)["KG_PORT"])
    for container in containers(manifests):
        if container["command"][1] in ("worker", "scheduler"):
            # no API: nothing to probe (a worker's metrics listener is no sign of its health)
            assert "livenessProbe" not in container and "readinessProbe" not in container
            assert [p["name"] for p in container.get("ports", [])] in ([], ["metrics"])
            continue
        assert container["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.name)
def test_every_variable_the_chart_sets_is_a_kg_setting(helm: Helm, values: Path) -> None:
    manifests = helm.manifests(values)
    names = set(environment(manifests))
    names |= {
        e["name"] for c in containers(manifests) for e in c.get("env", []) if e["name"].startswith("KG_")
    }
    assert {"KG_HOST", "KG_PORT", "KG_DATA_DIR", "KG_HOOK_SECRET", "KG_TOKEN_KEY"} <= names
    unknown = {n for n in names if n.removeprefix("KG_").lower() not in Settings.model_fields}
    assert not unknown, f"not kg settings (kg/config.py): {sorted(unknown)}"
    assert all(n.startswith("KG_") for n in names)


@pytest.mark.parametrize("section", ["config", "secrets"])
def test_every_key_the_values_offer_is_a_kg_setting(section: str) -> None:
    """Empty values are not rendered: a misspelt key in values.yaml would go unnoticed there."""
    offered = set(yaml.safe_load((CHART / "values.yaml").read_text())[section]) - {"existingSecret"}
    assert len(offered) >= 7
    assert not offered - set(Settings.model_fields), sorted(offered - set(Settings.model_fields))


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.name)
def test_kg_accepts_the_rendered_configuration(
    helm: Helm, values: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the pods get passes kg's own start-up checks (production mode, real secrets)."""
    env = environment(helm.manifests(values))
    for name in [n for n in os.environ if n.startswith("KG_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.environment == "production"
    assert str(settings.data_dir) == env["KG_DATA_DIR"]
    assert settings.hook_secret.get_secret_value() == env["KG_HOOK_SECRET"]


def mebibytes(quantity: str) -> int:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024 * 1024}
    suffix = quantity[-2:]
    return int(float(quantity[:-2]) * units[suffix]) if suffix in units else int(quantity) // 2**20


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.name)
def test_memory_limits_hold_what_kg_itself_allows(helm: Helm, values: Path) -> None:
    """Below the sum of kg's own per-process bounds, the kernel kills a pod kg would have kept."""
    manifests = helm.manifests(values)
    env = environment(manifests)

    def setting(name: str) -> int:
        return int(env.get(f"KG_{name.upper()}", Settings.model_fields[name].default))

    ingest = setting("job_max_memory_mb")
    queries = setting("sparql_workers") * setting("sparql_max_memory_mb")
    for container in containers(manifests):
        role = container["command"][1]
        concurrency = int(container["command"][3]) if role == "worker" else 1
        needed = {"serve": ingest + queries, "api": queries, "worker": concurrency * ingest}.get(role, 0)
        assert mebibytes(container["resources"]["limits"]["memory"]) > needed, (role, needed)
