"""Browser clients hosted elsewhere: anonymous reads from any origin, credentials only from
KG_CORS_ORIGINS, nothing for routes that change things (a real `kg serve`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.servers import KgServer

TRUSTED = "https://notebooks.example.org"
STRANGER = "https://yasgui.example"


@pytest.fixture(scope="module")
def kg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KgServer]:
    server = KgServer(
        tmp_path_factory.mktemp("cors") / "kg",
        {"KG_CORS_ORIGINS": TRUSTED, "KG_SPARQL_WORKERS": "1", "KG_WORKER_ENABLED": "false"},
    )
    yield server
    server.stop()


def preflight(kg: KgServer, path: str, origin: str, method: str, headers: str = "") -> httpx.Response:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        asked["Access-Control-Request-Headers"] = headers
    return httpx.options(f"{kg.url}{path}", headers=asked, timeout=30)


def test_a_preflight_to_sparql_is_granted_to_any_origin_without_credentials(kg: KgServer) -> None:
    answer = preflight(kg, "/sparql", STRANGER, "POST", "content-type")
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "POST" in answer.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in answer.headers
    assert "authorization" not in answer.headers["access-control-allow-headers"].lower()


def test_a_trusted_origin_may_send_credentials(kg: KgServer) -> None:
    answer = preflight(kg, "/sparql", TRUSTED, "GET", "authorization")
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == TRUSTED
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert "authorization" in answer.headers["access-control-allow-headers"].lower()
    assert "origin" in answer.headers["vary"].lower()


def test_answers_carry_the_grant_and_expose_the_paging_headers(kg: KgServer) -> None:
    query = {"query": "ASK {}"}
    anonymous = httpx.get(f"{kg.url}/sparql", params=query, headers={"Origin": STRANGER}, timeout=30)
    assert anonymous.status_code == 200
    assert anonymous.headers["access-control-allow-origin"] == "*"
    search = httpx.get(f"{kg.url}/knowledge-graph/entities", headers={"Origin": TRUSTED}, timeout=30)
    assert search.status_code == 200
    assert search.headers["access-control-allow-origin"] == TRUSTED
    exposed = {h.strip() for h in search.headers["access-control-expose-headers"].split(",")}
    assert {"Total", "Total-Pages", "Next-Page", "Facets"} <= exposed
    plain = httpx.get(f"{kg.url}/sparql", params=query, timeout=30)
    assert "access-control-allow-origin" not in plain.headers  # no Origin, no CORS


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/webhooks/events", "POST"),
        ("/sessions", "POST"),
        ("/projects/1/webhooks", "POST"),
        ("/sparql", "DELETE"),
    ],
)
def test_routes_that_change_things_get_no_grant(kg: KgServer, path: str, method: str) -> None:
    answer = preflight(kg, path, TRUSTED, method)
    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-allow-methods" not in answer.headers


def test_a_bad_origin_setting_is_refused(tmp_path: Path) -> None:
    from kg.config import SettingsError, load_settings

    with pytest.raises(SettingsError, match="KG_CORS_ORIGINS"):
        load_settings(data_dir=tmp_path, cors_origins="https://ok.example, notes.example/path")
