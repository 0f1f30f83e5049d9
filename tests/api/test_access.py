"""The access matrix: {anonymous, outsider, member, other member} x {public, internal, private}
x {search, project, datasets, lineage, SPARQL over all graphs, SPARQL naming a graph}."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fixtures.gitrepo import make_repo
from tests.fixtures.identity import IdentityServer
from tests.fixtures.servers import KgServer, kg_ingest
from tests.fixtures.stores import STORES, env_in_test
from tests.test_lineage import pipeline

PROJECTS = {
    "pub": ("public", None),
    "int": ("internal", None),
    "priv": ("private", "7"),
    "other": ("private", "8"),
}
CALLERS = ["anonymous", "outsider", "member", "other-member"]
USERS = {"outsider": "99", "member": "7", "other-member": "8"}


def may_read(caller: str, project: str) -> bool:
    visibility, member = PROJECTS[project]
    if visibility == "public":
        return True
    if caller == "anonymous":
        return False
    return visibility == "internal" or USERS[caller] == member


@pytest.fixture(scope="module", params=list(STORES))
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Four projects ingested into kg on each store kg offers, served by `kg serve`."""
    root = tmp_path_factory.mktemp("access")
    store = env_in_test(request.param, request)
    identity = IdentityServer()
    data = root / "kg"
    for name, (visibility, member) in PROJECTS.items():
        repo = make_repo(root / "repos" / name)
        pipeline(repo)
        repo.commit({f"data/{name}.csv.dvc": f"outs:\n- md5: {name:0>32}\n  path: {name}.csv\n"}, "dvc add")
        kg_ingest(data, repo.path, f"g/{name}", visibility, *([member] if member else []), env=store)
    server = KgServer(
        data,
        {
            "KG_OIDC_ISSUER": identity.issuer,
            "KG_OIDC_AUDIENCE": "kg",
            "KG_GITLAB_URL": identity.url,
            "KG_SPARQL_WORKERS": "2",
            **store,
        },
    )
    tokens = {c: identity.token(u) for c, u in USERS.items()}
    yield {"server": server, "tokens": tokens, "identity": identity, "base": store["KG_BASE_IRI"]}
    server.stop()
    identity.stop()


def client(world: dict[str, Any], caller: str) -> httpx.Client:
    headers = {} if caller == "anonymous" else {"Authorization": f"Bearer {world['tokens'][caller]}"}
    return httpx.Client(base_url=world["server"].url, headers=headers, timeout=60)


def graph_of(world: dict[str, Any], name: str) -> str:
    return f"{world['base']}projects/g/{name}/-/graphs/1"


CELLS = [(c, p) for c in CALLERS for p in PROJECTS]


@pytest.mark.parametrize(("caller", "project"), CELLS)
def test_rest_routes(world: dict[str, Any], caller: str, project: str) -> None:
    allowed = may_read(caller, project)
    with client(world, caller) as http:
        hits = http.get("/knowledge-graph/entities", params={"query": project, "type": "project"}).json()
        assert (f"g/{project}" in {h["slug"] for h in hits}) == allowed
        everything = http.get("/knowledge-graph/entities", params={"per_page": 100})
        assert (
            f"g/{project}" in {h.get("project", {}).get("slug") or h.get("slug") for h in everything.json()}
        ) == allowed
        for path in (
            f"/knowledge-graph/projects/g/{project}",
            f"/knowledge-graph/projects/g/{project}/datasets",
            f"/knowledge-graph/projects/g/{project}/files/report.pdf/lineage",
            f"/knowledge-graph/projects/g/{project}/-/files",  # the explorer's project page
            f"/knowledge-graph/projects/g/{project}/-/activities",
            f"/knowledge-graph/projects/g/{project}/-/sync",
        ):
            response = http.get(path)
            assert response.status_code == (200 if allowed else 404), (path, response.text)
        if allowed:
            nodes = http.get(f"/knowledge-graph/projects/g/{project}/files/report.pdf/lineage").json()[
                "nodes"
            ]
            assert {n.get("project") for n in nodes} == {None}  # projects share no content here


@pytest.mark.parametrize(("caller", "project"), CELLS)
def test_sparql(world: dict[str, Any], caller: str, project: str) -> None:
    allowed = may_read(caller, project)
    slug_query = "SELECT DISTINCT ?slug WHERE { ?p <https://w3id.org/kg/ontology#slug> ?slug }"
    commits = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?c <http://schema.org/isPartOf> <{world['base']}projects/g/{project}> }}"
    named = [
        f"SELECT (COUNT(*) AS ?n) FROM <{graph_of(world, project)}> WHERE {{ ?s ?p ?o }}",
        f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph_of(world, project)}> {{ ?s ?p ?o }} }}",
        f"SELECT (COUNT(*) AS ?n) FROM NAMED <{graph_of(world, project)}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"SELECT (COUNT(*) AS ?n) FROM <{world['base']}projects/g/{project}/-/record> WHERE {{ ?s ?p ?o }}",
    ]
    with client(world, caller) as http:

        def ask(query: str) -> str:
            response = http.get("/sparql", params={"query": query}, headers={"Accept": "text/csv"})
            assert response.status_code == 200, response.text
            return response.text

        assert (f"g/{project}" in ask(slug_query).split()) == allowed
        assert (ask(commits).split()[1] != "0") == allowed
        for query in named:
            # a graph the caller may not read answers exactly as one that does not exist
            # (on Virtuoso 7.2, COUNT(*) over GRAPH <absent> is 1 for both: its quirk, no leak)
            absent = ask(query.replace(f"/g/{project}/", "/g/no-such-project/"))
            assert (ask(query) != absent) == allowed, query
            assert int(ask(query).split()[1]) > 1 or not allowed, query
        graph_param = http.get(
            "/sparql",
            params={
                "query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                "default-graph-uri": graph_of(world, project),
            },
            headers={"Accept": "text/csv"},
        ).text
        assert (graph_param.split()[1] != "0") == allowed
        # Audience graphs (every project of one visibility, merged) cannot be named at all...
        audience = f"{world['base']}audiences/{PROJECTS[project][0]}"
        for query in (
            f"SELECT (COUNT(?o) AS ?n) FROM <{audience}> WHERE {{ ?s ?p ?o }}",
            f"SELECT (COUNT(?o) AS ?n) WHERE {{ GRAPH <{audience}> {{ ?s ?p ?o }} }}",
        ):
            assert ask(query).split()[1] == "0", query
        # ...and GRAPH ?g ranges over the readable projects' own graphs only.
        graphs = set(ask("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }").split()[1:])
        assert (graph_of(world, project) in graphs) == allowed
        assert not any("/audiences/" in g for g in graphs)


def test_bad_tokens_are_401_everywhere(world: dict[str, Any]) -> None:
    identity: IdentityServer = world["identity"]
    with httpx.Client(base_url=world["server"].url, timeout=30) as http:
        for headers in (
            {"Authorization": f"Bearer {identity.token('7', expires_in=-100)}"},
            {"Authorization": "Bearer not-a-token"},
            {"PRIVATE-TOKEN": "nope"},
        ):
            for path in (
                "/knowledge-graph/entities",
                "/knowledge-graph/projects/g/pub",
                "/sparql?query=ASK%7B%7D",
            ):
                response = http.get(path, headers=headers)
                assert response.status_code == 401, (path, headers)
                assert response.json() == {"type": "about:blank", "title": "Unauthorized", "status": 401}
        identity.gitlab_user("glpat-member", 7)
        assert (
            http.get(
                "/knowledge-graph/projects/g/priv", headers={"PRIVATE-TOKEN": "glpat-member"}
            ).status_code
            == 200
        )


def test_search_paging_headers_facets_and_bad_parameters(world: dict[str, Any]) -> None:
    import json

    with client(world, "member") as http:
        response = http.get(
            "/knowledge-graph/entities", params={"per_page": 2, "page": 2, "sort": "name:asc"}
        )
        assert response.status_code == 200
        headers = response.headers
        total = int(headers["Total"])
        assert headers["Per-Page"] == "2" and headers["Page"] == "2"
        assert int(headers["Total-Pages"]) == -(-total // 2)
        assert headers["Prev-Page"] == "1" and 'rel="next"' in headers["Link"]
        facets = json.loads(headers["Facets"])
        assert facets["visibility"] == {
            "public": facets["visibility"]["public"],
            "internal": facets["visibility"]["internal"],
            "private": facets["visibility"]["private"],
        }
        envelope = http.get(
            "/knowledge-graph/entities", params={"envelope": "true", "type": "project"}
        ).json()
        assert {i["slug"] for i in envelope["items"]} == {"g/pub", "g/int", "g/priv"}
        assert envelope["facets"]["type"]["project"] == 3
        assert set(envelope["facets"]) == {"type", "visibility", "namespace", "creator"}
        assert "creator" not in facets  # the header's facets are what they were
        for params, name in (
            ({"type": "file"}, "type"),
            ({"per_page": "101"}, "per_page"),
            ({"page": "0"}, "page"),
            ({"sort": "size"}, "sort"),
            ({"since": "2024-13"}, "since"),
            ({"since": "2024-02-01", "until": "2024-01-01"}, "since"),
        ):
            bad = http.get("/knowledge-graph/entities", params=params)
            assert bad.status_code == 400, params
            assert bad.headers["content-type"] == "application/problem+json"
            assert bad.json()["parameter"] == name
    with client(world, "anonymous") as http:
        assert (
            http.get("/knowledge-graph/entities", params={"role": "owner"}).status_code == 400
        )  # renku-graph: a bad request
        ld = http.get("/knowledge-graph/projects/g/pub", headers={"Accept": "application/ld+json"})
        assert ld.headers["content-type"] == "application/ld+json"
        assert ld.json()["@id"] == f"{world['base']}projects/g/pub"


@pytest.mark.parametrize(("caller", "project"), CELLS)
def test_graph_export_history_datasets_and_users(world: dict[str, Any], caller: str, project: str) -> None:
    allowed = may_read(caller, project)
    with client(world, caller) as http:
        turtle = http.get(f"/knowledge-graph/projects/g/{project}/graph", headers={"Accept": "text/turtle"})
        assert turtle.status_code == (200 if allowed else 404)
        history = http.get(f"/knowledge-graph/projects/g/{project}/files/data/clean.csv/history")
        assert history.status_code == (200 if allowed else 404)
        if allowed:
            assert turtle.headers["content-type"].startswith("text/turtle")
            assert f"{world['base']}projects/g/{project}/-/commits/" in turtle.text
            kinds = {(e["kind"], e["role"]) for e in history.json()["history"]}
            assert {("commit", "generated"), ("run", "generated"), ("run", "used")} <= kinds
        found = http.get(f"/knowledge-graph/datasets/{project}.csv")
        assert found.status_code == (200 if allowed else 404)
        listed = http.get(f"/knowledge-graph/projects/g/{project}/datasets")
        if allowed:
            assert found.json()["project"]["slug"] == f"g/{project}"
            assert [d["slug"] for d in listed.json()] == [f"data/{project}.csv"]
        member = PROJECTS[project][1]
        if member:
            listed = http.get(f"/knowledge-graph/users/{member}/projects").json()
            assert (f"g/{project}" in {p["slug"] for p in listed}) == allowed


def test_graph_export_formats(world: dict[str, Any]) -> None:
    import pyoxigraph as ox

    with client(world, "anonymous") as http:
        counts = set()
        for media, fmt in (
            ("text/turtle", ox.RdfFormat.TURTLE),
            ("application/n-triples", ox.RdfFormat.N_TRIPLES),
            ("application/ld+json", ox.RdfFormat.JSON_LD),
            ("application/trig", ox.RdfFormat.TRIG),
        ):
            response = http.get("/knowledge-graph/projects/g/pub/graph", headers={"Accept": media})
            assert response.headers["content-type"].startswith(media)
            quads = list(ox.parse(response.content, fmt))
            counts.add(len(quads))
            if media == "application/trig":
                assert {q.graph_name.value for q in quads} == {graph_of(world, "pub")}
        assert len(counts) == 1
        assert http.get("/knowledge-graph/projects/g/pub/files/nope.txt/history").status_code == 404
        assert http.get("/knowledge-graph/version").json()["name"] == "kg"
        assert "/entities" in http.get("/knowledge-graph/spec.json").json()["paths"]  # below its server
        assert http.get("/knowledge-graph/ontology", headers={"Accept": "text/turtle"}).status_code == 200
