"""The embedded chart's configuration starts a real `kg serve`, and its probes' paths answer."""

from __future__ import annotations

from pathlib import Path

from tests.charts.rendering import Helm, containers, environment, values_file
from tests.fixtures.servers import KgServer


def test_kg_serve_on_the_rendered_configuration_passes_its_probes(helm: Helm, tmp_path: Path) -> None:
    manifests = helm.manifests(values_file("default"))
    env = environment(manifests)
    assert env["KG_ENVIRONMENT"] == "production"
    # the pod's layout, not this machine's: a data dir of the test's own, loopback only
    del env["KG_DATA_DIR"]
    env["KG_HOST"] = "127.0.0.1"
    (container,) = containers(manifests)
    server = KgServer(tmp_path / "kg", env=env)
    try:
        with server.client() as client:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                path = container[probe]["httpGet"]["path"]
                response = client.get(path)
                assert response.status_code == 200, f"{probe} {path}: {response.text}"
            assert client.get("/ready").json()["status"] == "ok"
    finally:
        server.stop()
