"""Renku >= 1.0 projects and datasets: creation date, images, creators in order with their
affiliation, and e-mails only where the metadata gives one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.extract.helpers import PROJECT, copy_tree, extract, rows
from tests.fixtures.gitrepo import GitRepo
from tests.fixtures.renku import CREATED, described_project, person, renku_object

DATASET = f"{PROJECT}/-/renku/datasets/ddd444eee555"


@pytest.fixture
def described(git_repo: Callable[[str], GitRepo]) -> GitRepo:
    repo = git_repo("described")
    for files in described_project():
        repo.commit(files, "renku")
    return repo


def test_the_project_is_dated_by_renku_and_described(described: GitRepo) -> None:
    store, warnings = extract(described.path)
    assert warnings == []
    found = rows(
        store,
        f"""SELECT ?created ?description ?creator ?email ?affiliation WHERE {{
          <{PROJECT}> schema:dateCreated ?created ; schema:description ?description ;
             schema:creator ?p . ?p schema:name ?creator ; schema:email ?email ; schema:affiliation ?affiliation }}""",
    )
    assert found == [
        {
            "created": CREATED.replace("+00:00", "Z"),  # the store normalises the zone
            "description": "Snow depth over the Alps",
            "creator": "Ada Lovelace",
            "email": "ada@example.org",
            "affiliation": "Analytical Engines",
        }
    ]
    typed = rows(store, f"SELECT (DATATYPE(?d) AS ?t) WHERE {{ <{PROJECT}> schema:dateCreated ?d }}")
    assert typed == [{"t": "http://www.w3.org/2001/XMLSchema#dateTime"}]
    keywords = rows(store, f"SELECT ?k WHERE {{ <{PROJECT}> schema:keywords ?k }}")
    assert sorted(r["k"] for r in keywords) == ["alps", "snow"]


def test_project_and_dataset_images_with_their_position(described: GitRepo) -> None:
    store, _ = extract(described.path)
    query = "SELECT ?url ?pos WHERE {{ <{}> schema:image [ schema:contentUrl ?url ; schema:position ?pos ] }}"
    assert sorted(rows(store, query.format(PROJECT)), key=lambda r: r["pos"]) == [
        {"url": "https://example.org/z-snow.png", "pos": "0"},
        {"url": "https://example.org/a-alps.png", "pos": "1"},
    ]
    assert sorted((r["pos"], r["url"]) for r in rows(store, query.format(DATASET))) == [
        ("0", "https://example.org/a.png"),
        ("1", "https://example.org/b.png"),
    ]


def test_dataset_creators_keep_their_order_and_affiliation(described: GitRepo) -> None:
    store, _ = extract(described.path)
    # the pattern queries/index_dataset_creators.rq reads
    found = rows(
        store,
        f"""SELECT ?name ?pos ?affiliation WHERE {{
          <{DATASET}> schema:creator ?p ; kg:creatorPosition [ schema:item ?p ; schema:position ?pos ] .
          ?p schema:name ?name OPTIONAL {{ ?p schema:affiliation ?affiliation }} }} ORDER BY ?pos""",
    )
    assert [(r["name"], r["pos"], r.get("affiliation")) for r in found] == [
        ("Zoe Zimmer", "1", "Uni Bern"),
        ("Bob Berg", "2", "SLF Davos"),
        ("Carla Ander", "3", None),
    ]


def test_only_an_email_field_or_a_mailto_id_is_an_email(described: GitRepo) -> None:
    store, _ = extract(described.path)
    emails = rows(
        store,
        "SELECT ?name ?email WHERE { ?s schema:creator ?p . ?p schema:name ?name ; schema:email ?email }",
    )
    people = {r["name"]: r["email"] for r in emails}
    assert people == {
        "Ada Lovelace": "ada@example.org",
        "Bob Berg": "bob@example.org",
        "Carla Ander": "carla@example.org",
    }
    assert "Zoe Zimmer" in {
        r["n"] for r in rows(store, "SELECT ?n WHERE { ?s schema:creator/schema:name ?n }")
    }


def test_a_person_id_is_never_an_email_and_names_the_nameless(
    git_repo: Callable[[str], GitRepo],
) -> None:
    repo = git_repo("nameless")
    orcid = "https://orcid.org/0000-0001-5109-3700"
    dataset = renku_object(
        "dataset.Dataset",
        id="/datasets/fff666",
        name="x",
        creators=[person(orcid, ""), person("/persons/dan%40example.org", "Dan")],
        dataset_files=[],
    )
    repo.commit(dict([dataset]), "renku")
    store, warnings = extract(repo.path)
    assert warnings == []
    found = rows(
        store,
        "SELECT ?n ?e WHERE { ?d schema:creator ?p . ?p schema:name ?n OPTIONAL { ?p schema:email ?e } }",
    )
    assert sorted(found, key=lambda r: r["n"]) == [{"n": "Dan"}, {"n": orcid}]


def test_the_real_project_is_dated_by_renku(real: Path, git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("arc")
    copy_tree(real / "renku-v1-arc", repo.path)
    repo.commit(message="renku metadata")
    store, _ = extract(repo.path)
    found = rows(
        store,
        f"SELECT ?created ?email WHERE {{ <{PROJECT}> schema:dateCreated ?created ; schema:creator/schema:email ?email }}",
    )
    assert found == [{"created": "2024-08-21T12:44:18.873368Z", "email": "j.krumsieck@outlook.de"}]
    placed = rows(
        store,
        f"""SELECT ?pos ?email WHERE {{
          <{PROJECT}/-/renku/datasets/c4775829e2e246dfa48e25a1e77bffd3>
            kg:creatorPosition [ schema:item/schema:email ?email ; schema:position ?pos ] }}""",
    )
    assert placed == [{"pos": "1", "email": "j.krumsieck@outlook.de"}]
