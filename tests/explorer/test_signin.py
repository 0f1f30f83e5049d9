"""Signing in to the explorer in a real browser, with the Keycloak stand-in's authorisation
code flow and PKCE: private projects appear for their members only, and a signed-in user
opens, lists and stops sessions from the pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.test_sessions import STAND_IN, ingest
from tests.fixtures.browser import submit_login_form
from tests.fixtures.gitrepo import make_repo
from tests.fixtures.identity import IdentityServer
from tests.fixtures.servers import KgServer
from tests.test_lineage import pipeline

MEMBER, OUTSIDER = "7", "8"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("explorer-signin")
    data = root / "kg"
    open_repo = make_repo(root / "open")
    pipeline(open_repo)
    ingest(data, open_repo.path, "lab/open", 21, "public")
    secret = make_repo(root / "secret")
    secret.commit({"plans.md": "secret plans"}, "plans")
    ingest(data, secret.path, "lab/secret", 22, "private", MEMBER)
    identity = IdentityServer()
    server = KgServer(
        data,
        {"KG_OIDC_ISSUER": identity.issuer, "KG_OIDC_AUDIENCE": "kg", "KG_SESSIONS_COMMAND": STAND_IN},
    )
    identity.register_user("ann", "ann-pw", sub=MEMBER, name="Ann Member")
    identity.register_user("bob", "bob-pw", sub=OUTSIDER, name="Bob Outsider")
    identity.register_client("kg-explorer", redirect_uris=[f"{server.url}/explore/signed-in"])
    yield {"kg": server, "identity": identity}
    server.stop()
    identity.stop()


def sign_in(page: Any, user: str, password: str) -> None:
    page.get_by_role("button", name="Sign in").click()
    submit_login_form(page, user, password)
    page.get_by_text("Signed in as").wait_for()


def search_slugs(page: Any, kg: KgServer, words: str) -> set[str]:
    page.goto(f"{kg.url}/explore/search?q={words}")
    page.locator("#result-count").wait_for()
    return set(page.locator(".hit-project a").all_inner_texts())


def test_private_projects_show_for_members_once_signed_in(page: Any, world: dict[str, Any]) -> None:
    kg = world["kg"]
    assert search_slugs(page, kg, "lab") == {"open"}
    page.goto(f"{kg.url}/explore/projects/lab/secret")
    page.get_by_role("alert").wait_for()  # a 404, told as one: signed out, it is not there
    page.goto(f"{kg.url}/explore/search?q=lab")
    sign_in(page, "ann", "ann-pw")
    assert "/explore/search?q=lab" in page.url  # back where the sign-in started
    assert page.get_by_text("Signed in as Ann Member").is_visible()
    page.locator(".hit-project a", has_text="secret").wait_for()
    assert search_slugs(page, kg, "lab") == {"open", "secret"}
    page.goto(f"{kg.url}/explore/projects/lab/secret")  # a reload keeps the tab signed in
    page.locator(".files .path", has_text="plans.md").wait_for()
    page.get_by_role("button", name="Sign out").click()
    assert search_slugs(page, kg, "lab") == {"open"}


def test_an_outsider_signed_in_still_does_not_see_it(page: Any, world: dict[str, Any]) -> None:
    kg = world["kg"]
    page.goto(f"{kg.url}/explore/search?q=lab")
    sign_in(page, "bob", "bob-pw")
    assert search_slugs(page, kg, "lab") == {"open"}


def test_a_wrong_password_signs_nobody_in(page: Any, world: dict[str, Any]) -> None:
    kg = world["kg"]
    page.goto(f"{kg.url}/explore/search?q=lab")
    page.get_by_role("button", name="Sign in").click()
    submit_login_form(page, "ann", "wrong")
    page.get_by_text("Invalid username or password.").wait_for()
    page.goto(f"{kg.url}/explore/search?q=lab")
    assert page.get_by_role("button", name="Sign in").is_visible()


def test_sessions_open_from_the_lineage_page_and_stop_from_the_list(page: Any, world: dict[str, Any]) -> None:
    kg = world["kg"]
    page.goto(f"{kg.url}/explore/lineage?project=lab/open&file=figures/plot.png")
    sign_in(page, "ann", "ann-pw")
    page.locator("#lineage-picture[data-ready]").wait_for()
    page.get_by_role("button", name="Open in a session at this commit").click()
    started = page.locator(".session-status a")
    started.wait_for()
    assert started.get_attribute("href").startswith("http://127.0.0.1:")
    name = started.inner_text()
    page.get_by_role("link", name="Sessions").click()
    row = page.locator("table.data tbody tr", has_text=name)
    row.wait_for()
    assert "lab/open" in row.inner_text()
    row.get_by_role("button", name=f"Stop {name}").click()
    row.wait_for(state="detached")
    page.get_by_text("No sessions.").wait_for()
