"""charts/kg has no default secrets, keeps them out of ConfigMaps, and takes an existing Secret."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.charts.rendering import CI_VALUES, Helm, containers, of_kind, values_file

SECRET_KEYS = {
    "hook_secret",
    "token_key",
    "gitlab_token",
    "git_token",
    "store_password",
    "event_log_url",
    "search_url",
}
HOOK = "a-webhook-secret-of-at-least-32-characters"
KEY = "Y2ktb25seS10b2tlbi1rZXktMDEyMzQ1Njc4OWFiY2Q="


def test_without_secrets_the_chart_refuses_to_render(helm: Helm) -> None:
    result = helm.template()
    assert result.returncode != 0
    assert "secrets.hook_secret is required" in result.stderr
    assert "secrets.existingSecret" in result.stderr  # the way out is named


def test_without_a_token_key_the_chart_refuses_to_render(helm: Helm) -> None:
    result = helm.template(sets={"secrets.hook_secret": HOOK})
    assert result.returncode != 0
    assert "secrets.token_key is required" in result.stderr


def test_a_short_hook_secret_is_refused(helm: Helm) -> None:
    result = helm.template(sets={"secrets.hook_secret": "short", "secrets.token_key": KEY})
    assert result.returncode != 0
    assert "at least 32 characters" in result.stderr


@pytest.mark.parametrize("missing", ["event_log_url", "search_url"])
def test_a_fleet_refuses_to_render_without_its_databases(helm: Helm, missing: str, tmp_path: Path) -> None:
    values = yaml.safe_load(values_file("fleet").read_text())
    values["secrets"][missing] = ""
    edited = tmp_path / "values.yaml"
    edited.write_text(yaml.safe_dump(values))
    result = helm.template(edited)
    assert result.returncode != 0
    assert f"secrets.{missing} is required in fleet mode" in result.stderr


def test_a_fleet_refuses_the_embedded_store(helm: Helm) -> None:
    result = helm.template(values_file("fleet"), sets={"config.store_url": ""})
    assert result.returncode != 0
    assert "config.store_url must be a SPARQL store server" in result.stderr


@pytest.mark.parametrize("key", sorted(SECRET_KEYS))
def test_a_secret_given_as_plain_config_is_refused(helm: Helm, key: str) -> None:
    result = helm.template(values_file("default"), sets={f"config.{key}": "leaked-value"})
    assert result.returncode != 0
    assert f"config.{key} is a secret" in result.stderr
    assert "leaked-value" not in result.stdout


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.name)
def test_no_secret_value_appears_outside_the_secret(helm: Helm, values: Path) -> None:
    given = yaml.safe_load(values.read_text())["secrets"]
    secrets = [str(v) for k, v in given.items() if k in SECRET_KEYS and v]
    assert len(secrets) >= 2
    manifests = helm.manifests(values)
    for manifest in manifests:
        if manifest["kind"] == "Secret":
            continue
        text = yaml.safe_dump(manifest)
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{manifest['kind']} {manifest['metadata']['name']} holds {leaked}"
    for config in of_kind(manifests, "ConfigMap"):
        assert not {k.removeprefix("KG_").lower() for k in config["data"]} & SECRET_KEYS


def test_an_existing_secret_replaces_the_charts_own(helm: Helm) -> None:
    manifests = helm.manifests(sets={"secrets.existingSecret": "kg-managed"})
    assert not of_kind(manifests, "Secret")
    for container in containers(manifests):
        refs = [s["secretRef"]["name"] for s in container["envFrom"] if "secretRef" in s]
        assert refs == ["kg-managed"]


def test_an_existing_secret_and_secret_values_together_are_refused(helm: Helm) -> None:
    result = helm.template(sets={"secrets.existingSecret": "kg-managed", "secrets.hook_secret": HOOK})
    assert result.returncode != 0
    assert "secrets.hook_secret is set together with secrets.existingSecret" in result.stderr
