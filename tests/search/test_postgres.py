"""What only the PostgreSQL index does: accents, as-you-type prefixes and hostile text on a
real server, writers in several processes, a server that goes away, a role without rights."""

from __future__ import annotations

import multiprocessing
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest

from kg.access import Access
from kg.config import Settings, SettingsError, load_settings
from kg.errors import Unavailable
from kg.search import Document, SearchQuery, open_index
from kg.search.base import ProjectEntry
from kg.search.postgres import PostgresIndex
from kg.search.sqlite import SqliteIndex
from tests.fixtures.servers import free_port
from tests.search.test_contract import filled, names


@pytest.fixture
def index(postgres_url: str) -> Iterator[PostgresIndex]:
    ix = PostgresIndex(postgres_url)
    yield ix
    ix.close()


def entry(slug: str, visibility: str = "public", members: dict[str, int] | None = None) -> ProjectEntry:
    return ProjectEntry(
        slug, f"https://kg.test/projects/{slug}", f"https://kg.test/g/{slug}", visibility, members or {}
    )  # type: ignore[arg-type]


def project(slug: str, name: str, **more: Any) -> tuple[ProjectEntry, list[Document]]:
    e = entry(slug)
    return e, [Document(e.iri, "project", slug, name, slug=slug, **more)]


def test_open_index_picks_postgresql_by_the_url(postgres_url: str, tmp_path: Path) -> None:
    ix = open_index(Settings(data_dir=tmp_path, search_url=postgres_url))  # type: ignore[arg-type]
    assert isinstance(ix, PostgresIndex)
    ix.close()
    assert not (tmp_path / "search.sqlite").exists()
    assert isinstance(open_index(Settings(data_dir=tmp_path)), SqliteIndex)


def test_accents_are_ignored_both_ways(index: PostgresIndex) -> None:
    index.replace_project(*project("eu/food", "Crème brûlée", description="Straße in Ærøskøbing"))
    index.replace_project(*project("eu/plain", "creme caramel"))
    assert names(index, text="creme", sort=[("name", "asc")]) == ["creme caramel", "Crème brûlée"]
    assert names(index, text="CRÈME BRÛ") == ["Crème brûlée"]
    assert names(index, text="strasse aeroskob") == ["Crème brûlée"]  # ß is ss, Æ is AE


def test_prefixes_as_you_type(index: PostgresIndex) -> None:
    index.replace_project(*project("climate/rainfall", "Rainfall in Zürich", keywords=["precipitation"]))
    for typed in range(1, len("rainfall") + 1):
        assert names(index, text="rainfall"[:typed]) == ["Rainfall in Zürich"], typed
    assert names(index, text="zü rain") == ["Rainfall in Zürich"]
    assert names(index, text="precip clim") == ["Rainfall in Zürich"]  # keyword and slug
    assert names(index, text="rainfalls") == []


HOSTILE = [
    "rain & fall",
    "!rainfall",
    "rainfall:*",
    "rainfall:A",
    "rain <-> fall",
    "rain | x",
    "(rainfall",
    "'rainfall'",
    "''",
    "'",
    "\\",
    "rain\\'fall",
    "\x00rainfall",
    "rainʼfall",  # U+02BC, a letter that unaccent makes an apostrophe
    "ŉ rain",
    "\ud800rainfall",  # a lone surrogate
    '" OR 1=1 --',
    "%(user)s %s {}",
    "x" * 3000,
    "rainfall " + "y" * 3000,
    "rain " * 20_000,
    "a" * 1_000_000,
]


def test_hostile_text_is_searched_as_words(index: PostgresIndex, tmp_path: Path) -> None:
    filled(index)
    sqlite = filled(SqliteIndex(tmp_path / "search.sqlite"))
    for text in HOSTILE:
        found = names(index, text=text)
        assert found == names(sqlite, text=text), text[:40]
        index.search(SearchQuery(text=text, creators=[text], namespaces=[text]), Access(text))
        assert index.find("dataset", text) == [] and index.project(text) is None
        assert index.member_projects(text) == []
    assert names(index, text="rainfall:*") == names(index, text="rainfall") != []
    assert names(index, text="!rainfall") != []  # not a negation
    sqlite.close()


def test_nul_characters_are_dropped_not_refused(index: PostgresIndex) -> None:
    e = entry("g/nul\x00", members={"7\x00": 50})
    doc = Document(e.iri, "dataset", e.slug, "na\x00me", keywords=["k\x00"], extra={"x\x00": ["y\x00"]})
    index.replace_project(e, [doc])
    (found,) = index.documents("g/nul", "dataset")
    assert (found.name, found.keywords, found.extra) == ("name", ["k"], {"x": ["y"]})
    assert index.project("g/nul\x00") is not None
    assert index.member_projects("7") != []


def _write_projects(url: str, namespace: str, count: int) -> None:
    """One writer process: its own projects, and the project both writers replace."""
    ix = PostgresIndex(url)
    for i in range(count):
        slug = f"{namespace}/p{i}"
        e = entry(slug)
        ix.replace_project(e, [Document(e.iri, "project", slug, f"{namespace} project {i}", slug=slug)])
        shared = entry("shared/p")
        ix.replace_project(
            shared,
            [Document(f"{shared.iri}/{n}", "dataset", "shared/p", f"shared {n}") for n in range(3)],
        )
    ix.close()


def test_writers_in_two_processes(postgres_url: str) -> None:
    # both start on an empty database: the schema is created once, under a lock
    spawn = multiprocessing.get_context("spawn")
    writers = [spawn.Process(target=_write_projects, args=(postgres_url, ns, 15)) for ns in ("a", "b")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
    assert [w.exitcode for w in writers] == [0, 0]
    ix = PostgresIndex(postgres_url)
    result = ix.search(SearchQuery(text="project", per_page=100), Access())
    assert result.total == 30 and result.facets["namespace"] == {"a": 15, "b": 15}
    assert len(ix.documents("shared/p", "dataset")) == 3  # replaced whole, never doubled
    assert len(ix.projects()) == 31
    ix.close()


def test_readable_projects_follow_another_process(index: PostgresIndex, postgres_url: str) -> None:
    assert index.readable_projects(Access()) is None  # empty: nothing hidden
    index.replace_project(entry("g/secret", "private", {"7": 30}), [])
    assert index.readable_projects(Access()) == []
    writer = multiprocessing.get_context("spawn").Process(target=_write_projects, args=(postgres_url, "c", 1))
    writer.start()
    writer.join(120)
    assert sorted(p.slug for p in index.readable_projects(Access()) or []) == ["c/p0", "shared/p"]
    assert index.readable_projects(Access("7")) is None


def test_an_unreachable_server_is_unavailable_without_the_password(postgres_server: Any) -> None:
    closed = f"postgresql://kg:hunter2-secret@127.0.0.1:{free_port()}/kg"
    wrong = postgres_server.url("postgres").replace(postgres_server.password, "hunter2-secret")
    for url in (closed, wrong):
        with pytest.raises(Unavailable) as raised:
            PostgresIndex(url)
        message = str(raised.value)
        assert "127.0.0.1" in message and "hunter2" not in message, message
        assert raised.value.__cause__ is None and raised.value.__context__ is None


def test_a_role_that_may_not_create_extensions_is_told_what_to_do(postgres_server: Any) -> None:
    database = postgres_server.create_database()
    with psycopg.connect(postgres_server.dsn(database), autocommit=True) as admin:
        admin.execute("CREATE ROLE limited LOGIN PASSWORD 'limited-pw'")
        admin.execute("GRANT CREATE ON SCHEMA public TO limited")
    url = postgres_server.url(database).replace(
        f"{postgres_server.user}:{postgres_server.password}", "limited:limited-pw"
    )
    try:
        with pytest.raises(Unavailable, match=f"CREATE EXTENSION unaccent;` in database {database}"):
            PostgresIndex(url)
        with psycopg.connect(postgres_server.dsn(database), autocommit=True) as admin:
            admin.execute("CREATE EXTENSION unaccent")
        ix = PostgresIndex(url)  # the role needs no more than CREATE on its schema
        ix.replace_project(*project("g/ok", "Crème"))
        assert names(ix, text="creme") == ["Crème"]
        ix.close()
    finally:
        with psycopg.connect(postgres_server.dsn(database), autocommit=True) as admin:
            admin.execute("DROP OWNED BY limited")
            admin.execute("DROP ROLE limited")


def test_a_server_restart_is_unavailable_meanwhile_then_reconnected(
    index: PostgresIndex, postgres_server: Any
) -> None:
    index.replace_project(*project("g/p", "restart"))
    assert names(index, text="restart") == ["restart"]
    postgres_server.stop()
    try:
        with pytest.raises(Unavailable, match=re.escape("search index at 127.0.0.1")):
            index.search(SearchQuery(text="restart"), Access())
        with pytest.raises(Unavailable):
            index.probe()
    finally:
        postgres_server.start()
    assert names(index, text="restart") == ["restart"]  # the dropped connections are replaced


def test_a_bad_search_url_is_named_without_its_password() -> None:
    for url in ("mysql://kg:hunter2@db/kg", "postgresql:/kg:hunter2@db/kg", "sqlite:///x", "postgresql://"):
        with pytest.raises(SettingsError) as raised:
            load_settings(search_url=url)
        assert str(raised.value) == (
            "KG_SEARCH_URL: must be empty or postgresql://user:password@host:port/database"
        )
    assert load_settings(search_url="postgres://kg:hunter2@db:5433/kg").search_url.get_secret_value()


def test_weights_rank_name_then_keywords_then_description_then_paths(
    index: PostgresIndex, tmp_path: Path
) -> None:
    sqlite = SqliteIndex(tmp_path / "search.sqlite")
    where = {
        "in-path": {"paths": ["data/sediment.csv"]},
        "in-description": {"description": "sediment"},
        "in-keywords": {"keywords": ["sediment"]},
        "sediment": {},
    }
    for ix in (index, sqlite):
        for name, fields in where.items():
            ix.replace_project(*project(f"g/{name}", name, **fields))
    expected = ["sediment", "in-keywords", "in-description", "in-path"]
    assert names(index, text="sedim") == names(sqlite, text="sedim") == expected
    sqlite.close()


QUERIES: list[dict[str, Any]] = [
    {},
    {"text": "zurich"},
    {"text": "ada", "kinds": ["person", "dataset"]},
    {"sort": [("name", "desc")], "page": 2, "per_page": 3},
    {"sort": [("date", "asc"), ("name", "asc")]},
    {"namespaces": ["climate"], "visibilities": ["public", "private"]},
    {"roles": ["owner", "reader"]},
    {"creators": ["Ada Lovelace", "Nobody"], "until": "2024-12-31"},
    {"creators": ["ada LOVELACE"], "text": "zürich"},
    {"text": "measurements", "page": 5},
]


@pytest.mark.parametrize("caller", [None, "7", "8", "99"])
def test_the_same_answers_as_sqlite(index: PostgresIndex, tmp_path: Path, caller: str | None) -> None:
    filled(index)
    sqlite = filled(SqliteIndex(tmp_path / "search.sqlite"))
    for fields in QUERIES:
        if fields.get("roles") and caller is None:
            continue  # the API refuses a role filter without a token
        ours, theirs = (ix.search(SearchQuery(**fields), Access(caller)) for ix in (index, sqlite))
        assert [d.id for d in ours.items] == [d.id for d in theirs.items], fields
        assert (ours.total, ours.facets, ours.visibility) == (theirs.total, theirs.facets, theirs.visibility)
    ours_readable, theirs_readable = (ix.readable_projects(Access(caller)) for ix in (index, sqlite))
    assert (ours_readable is None) == (theirs_readable is None)
    assert sorted(ours_readable or [], key=str) == sorted(theirs_readable or [], key=str)
    sqlite.close()


def test_threads_share_a_few_connections(index: PostgresIndex, postgres_url: str) -> None:
    filled(index)
    expected = names(index, Access("7"), text="measurements")
    database = postgres_url.rsplit("/", 1)[1]
    most = 0

    def search(_: int) -> list[str]:
        return names(index, Access("7"), text="measurements")

    with ThreadPoolExecutor(24) as pool:
        answers = pool.map(search, range(200))
        with psycopg.connect(postgres_url) as watcher:
            for _ in range(20):
                row = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid != pg_backend_pid()",
                    (database,),
                ).fetchone()
                most = max(most, row[0] if row else 0)
        assert all(found == expected for found in answers)
    assert 1 <= most <= 8  # the API's thread pool shares the process's connections
