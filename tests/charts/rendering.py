"""Rendering charts/kg with the real helm binary that `make helm` fetches into .tools/bin."""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
HELM = ROOT / ".tools" / "bin" / "helm"
CHART = ROOT / "charts" / "kg"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
Manifest = dict[str, Any]


@dataclass(frozen=True)
class Helm:
    """The helm binary, with its caches and config in a directory of the test session's own."""

    binary: Path
    home: Path

    def run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.home),
            "HELM_CACHE_HOME": str(self.home / "cache"),
            "HELM_CONFIG_HOME": str(self.home / "config"),
            "HELM_DATA_HOME": str(self.home / "data"),
        }
        command = [str(self.binary), *map(str, args)]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    def template(self, *values: Path, sets: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`helm template` of the chart as release `kg` with these values files and --set pairs."""
        args: list[str | Path] = ["template", "kg", CHART, "--namespace", "kg"]
        for path in values:
            args += ["-f", path]
        for key, value in (sets or {}).items():
            args += ["--set", f"{key}={value}"]
        return self.run(*args)

    def manifests(self, *values: Path, sets: dict[str, str] | None = None) -> list[Manifest]:
        """The rendered manifests; the test fails with helm's message if rendering fails."""
        result = self.template(*values, sets=sets)
        assert result.returncode == 0, result.stderr
        return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def values_file(name: str) -> Path:
    return CHART / "ci" / f"{name}-values.yaml"


def of_kind(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def by_component(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["labels"]["app.kubernetes.io/component"]: m for m in of_kind(manifests, kind)}


def environment(manifests: list[Manifest]) -> dict[str, str]:
    """What a pod's environment gets from the rendered ConfigMap and Secret (decoded)."""
    env: dict[str, str] = {}
    for config in of_kind(manifests, "ConfigMap"):
        env.update(config["data"])
    for secret in of_kind(manifests, "Secret"):
        env.update({k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()})
    return env


def containers(manifests: list[Manifest]) -> list[Manifest]:
    return [c for d in of_kind(manifests, "Deployment") for c in d["spec"]["template"]["spec"]["containers"]]
