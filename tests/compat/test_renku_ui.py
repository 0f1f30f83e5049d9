"""renku-ui 4.3.0's calls to the knowledge graph, replayed as they arrive through Renku's
gateway (`Authorization: Bearer <GitLab token>`, or nothing for an anonymous visitor), against a
real `kg serve` over Renku 0.x and 1.x projects, asserting the fields the UI reads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.compat.legacy import CURRENT, FIRST, FOLDER, dvc_commits, imported_commits, legacy_commits
from tests.fixtures.gitrepo import make_repo
from tests.fixtures.identity import IdentityServer
from tests.fixtures.renku import CREATED, described_project, tagged_rainfall
from tests.fixtures.servers import KgServer, kg_ingest

OWNER = {"Authorization": "Bearer glpat-owner"}  # GitLab user 1, owner of every project
READER = {"Authorization": "Bearer glpat-reader"}  # GitLab user 2, a reporter
STRANGER = {"Authorization": "Bearer glpat-stranger"}  # GitLab user 3, no member of anything
JSON = {"Accept": "application/json"}


@dataclass(frozen=True)
class Call:
    """One request renku-ui makes (path below the gateway's `/api/kg` → `/knowledge-graph`)."""

    page: str
    method: str
    path: str
    query: dict[str, Any]
    headers: dict[str, str]


# From renku-ui 4.3.0's client/src: features/kgSearch/KgSearchApi.ts, features/project/
# projectKg.api.ts, features/inactiveKgProjects/InactiveKgProjectsApi.ts, features/versions/
# versions.api.ts, api-client/graph.js and api-client/project.js. `/ui-server/api/kg/X` reaches
# kg as `/knowledge-graph/X`, and `/ui-server/api/kg/webhooks/X` as `/X`, with the gateway's
# `Authorization: Bearer <GitLab token>` (nothing for an anonymous visitor). 4.3.0's dashboard
# lists recently visited projects from ui-server's own `/last-projects`, not from the graph:
# renku-graph's `current-user/recently-viewed` is replayed as its API documents it.
SEARCH_TYPES = ["project", "dataset"]
SEARCH_SORT = ["matchingScore:desc", "date:desc"]
UI_CALLS = [
    Call(
        "search page",
        "GET",
        "/knowledge-graph/entities",
        {"query": "", "page": 1, "per_page": 12, "type": SEARCH_TYPES, "sort": SEARCH_SORT},
        {},
    ),
    Call(
        "search",
        "GET",
        "/knowledge-graph/entities",
        {"query": "barro", "page": 1, "per_page": 12, "type": SEARCH_TYPES, "sort": SEARCH_SORT},
        {},
    ),
    Call(
        "search, logged in",
        "GET",
        "/knowledge-graph/entities",
        {"query": "", "page": 1, "per_page": 12, "type": SEARCH_TYPES, "role": "owner", "sort": SEARCH_SORT},
        OWNER,
    ),
    Call(
        "recently viewed",
        "GET",
        "/knowledge-graph/current-user/recently-viewed",
        {"limit": 10, "type": "project"},
        OWNER,
    ),
    Call("project page", "GET", "/knowledge-graph/projects/g/legacy", {}, {**OWNER, **JSON}),
    Call(
        "project json-ld", "GET", "/knowledge-graph/projects/g/legacy", {}, {"Accept": "application/ld+json"}
    ),
    Call("project datasets", "GET", "/knowledge-graph/projects/g/rain/datasets", {}, {}),
    Call(
        "dataset page",
        "GET",
        f"/knowledge-graph/datasets/{CURRENT.replace('-', '')}",
        {},
        {**JSON, "Content-Type": "application/json", "X-Requested-With": "XMLHttpRequest"},
    ),
    Call("dataset tags", "GET", "/knowledge-graph/projects/g/rain/datasets/rainfall/tags", {}, {}),
    Call("lineage", "GET", "/knowledge-graph/projects/g/dvc/files/data%2Fclean.csv/lineage", {}, {}),
    Call("indexing status", "GET", "/projects/11/events/status", {}, OWNER),
    Call(
        "inactive projects",
        "GET",
        "/knowledge-graph/users/1/projects",
        {"state": "NOT_ACTIVATED", "per_page": 20, "page": 1},
        OWNER,
    ),
    Call("version", "GET", "/knowledge-graph/version", {}, {}),
    Call("settings: description", "PATCH", "/knowledge-graph/projects/g/rain", {}, OWNER),
    Call("settings: image", "PATCH", "/knowledge-graph/projects/g/rain", {}, OWNER),
    Call("settings: delete", "DELETE", "/knowledge-graph/projects/g/gone", {}, OWNER),
    Call("new project", "POST", "/knowledge-graph/projects", {}, OWNER),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("compat")
    data = root / "kg"
    gitlab = IdentityServer()
    gitlab.gitlab_user("glpat-owner", 1)
    gitlab.gitlab_user("glpat-reader", 2)
    gitlab.gitlab_user("glpat-stranger", 3)
    projects = {
        "g/rain": (11, "public", tagged_rainfall()),
        "g/legacy": (12, "public", legacy_commits()),
        "g/secret": (13, "private", tagged_rainfall()[:1]),
        "g/gone": (14, "public", tagged_rainfall()[:1]),
        "g/dvc": (15, "public", dvc_commits()),
        "g/imported": (16, "public", imported_commits()),
        "g/described": (17, "public", described_project()),
    }
    for slug, (pid, visibility, commits) in projects.items():
        repo = make_repo(root / slug.replace("/", "-"))
        for files in commits:
            repo.commit(files, "renku")
        kg_ingest(data, repo.path, slug, visibility, "1")
        gitlab.gitlab_project(pid, slug, visibility, {1: 50, 2: 20})
    gitlab.projects[12]["description"] = "Exploring inflation"
    gitlab.gitlab_project(20, "g/fresh", "private", {1: 50})  # in GitLab, not yet in kg
    gitlab.namespaces[7] = "g"
    server = KgServer(
        data,
        {"KG_SPARQL_WORKERS": "1", "KG_GITLAB_URL": gitlab.url, "KG_WORKER_ENABLED": "false"},
    )
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield {"http": client, "gitlab": gitlab, "server": server}
    server.stop()
    gitlab.stop()


def send(http: httpx.Client, call: Call, **kwargs: Any) -> httpx.Response:
    return http.request(call.method, call.path, params=call.query, headers=call.headers, **kwargs)


def by_page(page: str) -> Call:
    return next(c for c in UI_CALLS if c.page == page)


@pytest.mark.parametrize("call", [c for c in UI_CALLS if c.method == "GET"], ids=lambda c: c.page)
def test_every_read_the_ui_makes_answers(world: dict[str, Any], call: Call) -> None:
    response = send(world["http"], call)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(("application/json", "application/ld+json"))
    if call.page == "inactive projects":  # read with its paging headers
        assert {"total", "page"} <= {h.lower() for h in response.headers}
        listed = response.json()
        assert [p["path"] for p in listed] == ["g/fresh"]
        assert all({"id", "name", "path", "visibility"} <= set(p) for p in listed)
        assert all(v is not None for p in listed for v in p.values())
    if call.page == "version":
        assert response.json()["versions"][0]["version"]


def test_search_hits_carry_what_the_ui_shows(world: dict[str, Any]) -> None:
    response = send(world["http"], by_page("search"))
    assert response.status_code == 200
    for header in ("Total", "Total-Pages", "Per-Page", "Page", "Link"):
        assert header in response.headers
    hits = response.json()
    datasets = [h for h in hits if h["type"] == "dataset"]
    assert [d["identifier"] for d in datasets] == [CURRENT]  # 0.x: the current version, once
    barro = datasets[0]
    assert barro["date"].startswith("2008-01-01")  # published: its publication date
    assert barro["creators"] == ["Chandrasekhar Ramakrishnan", "Josiah Carberry"]
    assert all(v is not None for v in barro.values())
    everything = world["http"].get("/knowledge-graph/entities", params={"type": "project"}).json()
    assert {p["slug"] for p in everything} == {
        "g/rain",
        "g/legacy",
        "g/gone",
        "g/dvc",
        "g/imported",
        "g/described",
    }
    for project in everything:
        assert project["date"] and project["dateModified"]  # every project is dated
        assert isinstance(project["images"], list)
        assert None not in project.values()
    legacy = next(p for p in everything if p["slug"] == "g/legacy")
    assert legacy["date"].startswith("2021-06-01")  # Renku's own creation date
    assert legacy["creator"] == "Chandrasekhar Ramakrishnan"


def test_role_needs_a_token_and_undated_items_are_in_no_range(world: dict[str, Any]) -> None:
    http: httpx.Client = world["http"]
    assert http.get("/knowledge-graph/entities", params={"role": "owner"}).status_code == 400
    mine = send(http, by_page("search, logged in"))
    assert mine.status_code == 200
    assert {h.get("slug") for h in mine.json() if h["type"] == "project"} == set()  # members are level 30
    ranged = http.get("/knowledge-graph/entities", params={"until": "2100-01-01"}).json()
    assert all(h.get("date") for h in ranged if h["type"] != "person")
    for impossible in ("2023-13-45", "2023-02-30"):  # shaped like a date, but no day
        for name in ("since", "until"):
            refused = http.get("/knowledge-graph/entities", params={name: impossible})
            assert (refused.status_code, refused.json()["parameter"]) == (400, name)


def test_project_page(world: dict[str, Any]) -> None:
    response = send(world["http"], by_page("project page"))
    assert response.status_code == 200
    page = response.json()
    assert page["path"] == page["slug"] == "g/legacy"
    assert page["description"] == "Exploring inflation"  # GitLab's, the repository has none
    assert page["keywords"] == ["demo"]  # GitLab's topics
    assert page["created"]["dateCreated"].startswith("2021-06-01")
    assert page["created"]["creator"]["name"] == "Chandrasekhar Ramakrishnan"
    assert set(page["urls"]) == {"ssh", "http", "web", "readme"}
    assert page["forking"] == {"forksCount": 1}
    assert page["starsCount"] == 3
    assert page["statistics"]["commitsCount"] == 4
    assert page["version"] == "8"
    assert page["permissions"] == {"projectAccess": {"level": {"name": "Developer", "value": 30}}}
    assert {link["rel"] for link in page["_links"]} == {"self", "datasets"}
    linked = world["http"].get(
        "/knowledge-graph/projects/g/legacy", headers={"Accept": "application/ld+json"}
    )
    assert linked.headers["content-type"].startswith("application/ld+json")
    node = linked.json()
    assert "http://schema.org/Project" in node["@type"]
    # expanded JSON-LD, the terms renku-ui embeds in the page (KgJsonLdResponse)
    assert node["https://swissdatasciencecenter.github.io/renku-ontology#projectPath"] == {
        "@value": "g/legacy"
    }
    assert node["http://schema.org/schemaVersion"] == {"@value": "8"}
    assert node["http://schema.org/creator"]["http://schema.org/name"] == {
        "@value": "Chandrasekhar Ramakrishnan"
    }
    assert node["http://schema.org/dateModified"]["@type"].endswith("#dateTime")


def test_dataset_page(world: dict[str, Any]) -> None:
    http: httpx.Client = world["http"]
    response = send(http, by_page("dataset page"))  # renku-ui may drop the UUID's hyphens
    assert response.status_code == 200
    body = response.json()
    assert body["identifier"] == CURRENT
    assert body["versions"] == {"initial": FOLDER}  # Renku 0.x: the folder is named by the first version
    assert body["published"]["datePublished"].startswith("2008-01-01")
    assert body["published"]["creator"] == [
        {"name": "Chandrasekhar Ramakrishnan", "email": "cramakri@ethz.ch", "affiliation": "ETH Zürich"},
        {"name": "Josiah Carberry"},  # an ORCID id is not an e-mail
    ]
    assert body["derivedFrom"].endswith(FIRST)
    assert body["url"].endswith(CURRENT)
    assert [p["atLocation"] for p in body["hasPart"]] == ["data/barro/barro-data-set.csv"]
    assert body["project"]["slug"] == "g/legacy"
    assert None not in body.values()
    assert http.get(f"/knowledge-graph/datasets/{CURRENT}").json()["identifier"] == CURRENT
    tags = http.get("/knowledge-graph/datasets/bbb222").json()
    assert tags["tags"] == {"initial": {"name": "v1.0", "description": "first release"}}
    listed = send(http, by_page("project datasets")).json()
    assert [(d["slug"], d["versions"]["initial"]) for d in listed] == [("rainfall", "aaa111")]
    assert send(http, by_page("dataset tags")).status_code == 200
    legacy = http.get("/knowledge-graph/projects/g/legacy/datasets").json()
    assert [(d["identifier"], d["versions"]["initial"]) for d in legacy] == [(CURRENT, FOLDER)]  # once
    assert legacy[0]["datePublished"].startswith("2008-01-01")
    assert all(v is not None for d in legacy for v in d.values())


def test_an_imported_renku_1_dataset(world: dict[str, Any]) -> None:
    http: httpx.Client = world["http"]
    body = http.get("/knowledge-graph/datasets/ccc333ddd444").json()
    assert body["sameAs"] == "https://doi.org/10.5281/zenodo.3233"
    assert "derivedFrom" not in body
    assert body["published"]["datePublished"].startswith("2019-05-04")
    creators = body["published"]["creator"]
    assert {c["name"] for c in creators} == {"Josiah Carberry", "Ada Lovelace"}
    assert all("orcid" not in c.get("email", "") for c in creators)  # an ORCID id is no e-mail
    assert next(c for c in creators if c["name"] == "Ada Lovelace")["email"] == "ada@example.org"
    assert creators == [  # the metadata's order, with each one's affiliation
        {"name": "Josiah Carberry", "affiliation": "Brown University"},
        {"name": "Ada Lovelace", "email": "ada@example.org", "affiliation": "Analytical Engines"},
    ]
    hits = http.get("/knowledge-graph/entities", params={"query": "zenodo"}).json()
    assert [h["date"][:10] for h in hits if h["type"] == "dataset"] == ["2019-05-04"]
    # a project with a description and a creator is still dated (by its first commit here)
    (project,) = [h for h in hits if h["type"] == "project"]
    assert (project["description"], project["creator"]) == ("Rain from Zenodo", "Ada Lovelace")
    assert project["date"] and project["date"] <= project["dateModified"]
    page = http.get("/knowledge-graph/projects/g/imported").json()
    assert (page["description"], page["keywords"], page["version"]) == ("Rain from Zenodo", ["rain"], "10")


def test_a_renku_1_project_dated_by_renku_with_ordered_creators(world: dict[str, Any]) -> None:
    http: httpx.Client = world["http"]
    page = http.get("/knowledge-graph/projects/g/described").json()
    # Renku's creation date, not the (later) first commit's
    assert page["created"]["dateCreated"].startswith(CREATED[:19])
    assert page["created"]["creator"] == {"name": "Ada Lovelace"}
    # Renku's order, not the URLs'
    assert [i["location"] for i in page["images"]] == [
        "https://example.org/z-snow.png",
        "https://example.org/a-alps.png",
    ]
    assert (page["description"], page["keywords"]) == ("Snow depth over the Alps", ["alps", "snow"])
    body = http.get("/knowledge-graph/datasets/ddd444eee555").json()
    assert body["published"]["creator"] == [  # the metadata's order, not by name
        {"name": "Zoe Zimmer", "affiliation": "Uni Bern"},
        {"name": "Bob Berg", "email": "bob@example.org", "affiliation": "SLF Davos"},
        {"name": "Carla Ander", "email": "carla@example.org"},
    ]
    hits = http.get("/knowledge-graph/entities", params={"query": "alps"}).json()
    (project,) = [h for h in hits if h["type"] == "project"]
    assert project["date"].startswith(CREATED[:19])


def test_lineage_is_what_the_ui_draws(world: dict[str, Any]) -> None:
    response = send(world["http"], by_page("lineage"))
    assert response.status_code == 200
    body = response.json()
    # renku-ui reads both at the top level, unwrapped; kg adds only its link to open a session
    assert set(body) - {"session"} == {"edges", "nodes"}
    assert (body["session"]["method"], body["session"]["href"]) == ("POST", "/sessions")
    nodes = {node["id"]: node for node in body["nodes"]}
    (run,) = [n for n in body["nodes"] if n["type"] == "ProcessRun"]
    assert run["id"] == run["location"] and "/-/runs/" in run["id"]
    assert run["label"] == "python clean.py data/raw.csv data/clean.csv"
    files = {n["location"]: n for n in body["nodes"] if n["type"] == "File"}
    assert set(files) == {"data/raw.csv", "data/clean.csv"}
    for path, node in files.items():
        assert re.fullmatch(re.escape(path) + "@[0-9a-f]{7}", node["label"]), node
    # the UI centres on the last node whose location is the path it asked for
    assert [n["location"] for n in body["nodes"]][-1] == "data/clean.csv"
    edges = {(e["source"], e["target"]) for e in body["edges"]}
    assert edges == {("data/raw.csv", run["id"]), (run["id"], "data/clean.csv")}
    assert all(source in nodes and target in nodes for source, target in edges)


def test_status_is_hidden_from_who_may_not_read(world: dict[str, Any]) -> None:
    http: httpx.Client = world["http"]
    assert send(http, by_page("indexing status")).status_code == 200
    hidden = http.get("/projects/13/events/status")
    assert hidden.status_code == 404
    unknown = http.get("/projects/999/events/status")
    assert unknown.status_code == 404
    # the same words for both, and the ones renku-ui reads as "not activated"
    assert "project cannot be found" in hidden.json()["message"]
    assert {k: v for k, v in unknown.json().items() if k != "detail"} == {
        k: v for k, v in hidden.json().items() if k != "detail"
    }
    assert http.get("/projects/13/events/status", headers=STRANGER).status_code == 404
    assert http.get("/projects/13/events/status", headers=READER).status_code == 200  # a GitLab member


def test_recently_viewed(world: dict[str, Any]) -> None:
    http: httpx.Client = world["http"]
    call = by_page("recently viewed")
    assert http.get(call.path).status_code == 401
    http.get("/knowledge-graph/projects/g/rain", headers=OWNER)
    http.get("/knowledge-graph/projects/g/legacy", headers=OWNER)
    viewed = send(http, call).json()
    assert [v["slug"] for v in viewed[:2]] == ["g/legacy", "g/rain"]
    assert http.get("/knowledge-graph/entities/current-user/recently-viewed", headers=READER).json() == []


def test_settings_edit_in_gitlab_with_the_callers_token(world: dict[str, Any]) -> None:
    http: httpx.Client = world["http"]
    gitlab: IdentityServer = world["gitlab"]
    call = by_page("settings: description")
    assert http.patch(call.path, json={"description": "x"}).status_code == 401
    assert http.patch(call.path, json={"description": "x"}, headers=READER).status_code == 403
    assert (
        http.patch(
            "/knowledge-graph/projects/g/secret", json={"description": "x"}, headers=READER
        ).status_code
        == 404
    )
    response = send(http, call, json={"description": "Rain, measured", "keywords": ["rain", "swiss"]})
    assert response.status_code == 202
    assert response.json() == {"message": "Project update accepted", "severity": "Info"}
    assert gitlab.projects[11]["description"] == "Rain, measured"
    assert gitlab.projects[11]["topics"] == ["rain", "swiss"]
    assert gitlab.seen_tokens[-1] == "Bearer glpat-owner"
    page = http.get("/knowledge-graph/projects/g/rain").json()
    assert (page["description"], page["keywords"]) == ("Rain, measured", ["rain", "swiss"])
    found = http.get("/knowledge-graph/entities", params={"query": "measured"}).json()
    assert [h["slug"] for h in found] == ["g/rain"]
    made_private = send(http, call, json={"visibility": "private"})
    assert made_private.status_code == 202
    assert gitlab.projects[11]["visibility"] == "private"
    assert http.get("/knowledge-graph/projects/g/rain").status_code == 404
    assert http.get("/knowledge-graph/projects/g/rain", headers=OWNER).json()["visibility"] == "private"
    image = send(
        http, by_page("settings: image"), files={"image": ("logo.png", b"\x89PNG fake", "image/png")}
    )
    assert image.status_code == 202
    assert gitlab.avatars[11] == b"\x89PNG fake"
    images = http.get("/knowledge-graph/projects/g/rain", headers=OWNER).json()["images"]
    assert images[0]["location"].endswith("/logo.png")


def test_settings_delete(world: dict[str, Any]) -> None:
    http: httpx.Client = world["http"]
    gitlab: IdentityServer = world["gitlab"]
    call = by_page("settings: delete")
    assert http.delete(call.path).status_code == 401
    assert http.delete(call.path, headers=READER).status_code == 403
    assert send(http, call).status_code == 202
    assert 14 not in gitlab.projects
    assert http.get("/knowledge-graph/projects/g/gone", headers=OWNER).status_code == 404
    hits = http.get("/knowledge-graph/entities", params={"type": "project"}).json()
    assert "g/gone" not in {h["slug"] for h in hits}


def test_create_project_in_gitlab_and_activate(world: dict[str, Any]) -> None:
    http: httpx.Client = world["http"]
    gitlab: IdentityServer = world["gitlab"]
    form = {"name": "New Thing", "namespaceId": "7", "visibility": "public", "keywords": "demo"}
    assert http.post("/knowledge-graph/projects", data=form).status_code == 401
    image = {"image": ("logo.png", b"\x89PNG new", "image/png")}  # renku-ui sends a multipart form
    response = http.post("/knowledge-graph/projects", data=form, files=image, headers=OWNER)
    assert response.status_code == 201, response.text
    assert response.json() == {"message": "Project created", "slug": "g/new-thing"}
    made = next(p for p in gitlab.projects.values() if p["path_with_namespace"] == "g/new-thing")
    assert made["visibility"] == "public"
    assert gitlab.hooks[made["id"]][0]["url"].endswith("/webhooks/events")
    status = http.get(f"/projects/{made['id']}/events/status", headers=OWNER)
    assert status.status_code == 200
    assert status.json()["activated"] is True


def test_spec_is_renku_graphs(world: dict[str, Any]) -> None:
    http: httpx.Client = world["http"]
    whole = http.get("/spec.json").json()
    assert set(whole["components"]["securitySchemes"]) == {"private-token", "oidc"}
    paged = whole["paths"]["/knowledge-graph/entities"]["get"]["responses"]["200"]["headers"]
    assert set(paged) == {"Total", "Total-Pages", "Per-Page", "Page", "Next-Page", "Prev-Page", "Link"}
    ui_paths = {c.path for c in UI_CALLS}
    documented = set(whole["paths"])
    for method, path in (
        ("patch", "/knowledge-graph/projects/{slug}"),
        ("delete", "/knowledge-graph/projects/{slug}"),
        ("post", "/knowledge-graph/projects"),
        ("get", "/knowledge-graph/current-user/recently-viewed"),
        ("get", "/knowledge-graph/datasets/{identifier}"),
    ):
        assert method in whole["paths"][path], path
    assert "/knowledge-graph/entities" in documented & ui_paths
    example = whole["components"]["schemas"]["InfoMessage"]
    assert example["example"] == {"message": "Project update accepted", "severity": "Info"}
    renku = http.get("/knowledge-graph/spec.json").json()
    assert renku["servers"] == [{"url": "/knowledge-graph"}]
    assert "/entities" in renku["paths"] and "/sparql" not in renku["paths"]


def test_hostile_project_forms_are_400s(world: dict[str, Any]) -> None:
    """A logged-in caller's malformed edits and creations are refused before GitLab is asked."""
    http: httpx.Client = world["http"]
    deep = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
    edit = by_page("settings: description").path
    for body in (deep, b"[" * 100_000 + b"]" * 100_000, b"not json"):
        response = http.patch(edit, content=body, headers={**OWNER, "Content-Type": "application/json"})
        assert (response.status_code, response.json()["parameter"]) == (400, "body"), body[:20]
    for namespace in ("\u00b2", "9" * 5000, "-1", ""):
        for sent in (
            {"json": {"name": "x", "namespaceId": namespace}},
            {"data": {"name": "x", "namespaceId": namespace}},
        ):
            response = http.post("/knowledge-graph/projects", headers=OWNER, **sent)  # type: ignore[arg-type]
            assert (response.status_code, response.json()["parameter"]) == (400, "namespaceId"), namespace[:8]
