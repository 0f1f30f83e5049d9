"""The `kg` command line, run as users run it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kg.cli import app
from kg.config import Settings
from kg.events import Push, open_event_log
from kg.store import open_store
from tests.fixtures.gitrepo import GitRepo
from tests.fixtures.identity import IdentityServer
from tests.fixtures.servers import GitDaemon, kg_env
from webhooks.tokens import hook_token

COMMITS = (
    "SELECT ?label WHERE { ?c a <https://w3id.org/kg/ontology#Commit> ; "
    "<http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?label"
)
SUMMARY = re.compile(
    r"^(\S+): (full|incremental|unchanged) ingest, (\d+) commits, (\d+) triples, "
    r"(\d+) warnings, [\d.]+ s$",
    re.M,
)


@pytest.fixture
def kg(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    env = kg_env(tmp_path / "kg")
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == code, result.output
        return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def gitlab_stand_in() -> Iterator[IdentityServer]:
    server = IdentityServer()
    yield server
    server.stop()


@pytest.fixture
def repo(git_repo: Callable[[str], GitRepo]) -> GitRepo:
    r = git_repo("cli")
    r.commit({"a.txt": "1"}, "first")
    r.commit({"a.txt": "2", "b c.txt": "3"}, "second")
    return r


def test_ingest_a_local_repository(
    kg: Callable[..., subprocess.CompletedProcess[str]], repo: GitRepo
) -> None:
    done = kg("ingest", str(repo.path), "--project", "team/analysis")
    match = SUMMARY.search(done.stdout)
    assert match is not None, done.stdout
    assert match.group(1, 2, 3, 5) == ("team/analysis", "full", "2", "0")
    assert int(match.group(4)) > 20
    # after the walk, every long step says what it does (a line each, off a terminal)
    steps = [
        f"publishing {int(match.group(4)):,} triples to the store…",
        "indexing team/analysis for search…",
    ]
    assert [line for line in done.stderr.splitlines() if line in steps] == steps
    repo.commit({"a.txt": "3"}, "third")
    again = SUMMARY.search(kg("ingest", str(repo.path), "--project", "team/analysis").stdout)
    assert again is not None and again.group(2, 3) == ("incremental", "1")


def test_ingest_a_git_url(
    kg: Callable[..., subprocess.CompletedProcess[str]], repo: GitRepo, git_daemon: GitDaemon
) -> None:
    repo.git("clone", "-q", "--bare", str(repo.path), str(git_daemon.root / "team" / "remote.git"))
    match = SUMMARY.search(kg("ingest", git_daemon.url("team/remote.git")).stdout)
    assert match is not None and match.group(1, 3) == ("team/remote", "2")


def test_ingest_errors_are_clear(
    kg: Callable[..., subprocess.CompletedProcess[str]], git_daemon: GitDaemon
) -> None:
    result = kg("ingest", git_daemon.url("missing.git"), code=1)
    assert "error:" in result.stderr and "missing.git" in result.stderr
    result = kg("ingest", ".", "--visibility", "secret", code=2)


def test_ingest_while_the_store_is_busy(
    kg: Callable[..., subprocess.CompletedProcess[str]], repo: GitRepo, tmp_path: Path
) -> None:
    holder = open_store(Settings(data_dir=tmp_path / "kg"))
    result = kg("ingest", str(repo.path), code=1)
    assert "kg serve" in result.stderr
    holder.close()


@pytest.mark.parametrize(
    ("fmt", "check"),
    [
        ("json", lambda out: len(json.loads(out)["results"]["bindings"]) == 2),
        ("csv", lambda out: out.split() == ["label", "first", "second"]),
        ("tsv", lambda out: out.split() == ["?label", '"first"', '"second"']),
        ("table", lambda out: "first" in out and "second" in out and "┃" in out),
    ],
)
def test_sparql_formats(
    kg: Callable[..., subprocess.CompletedProcess[str]],
    repo: GitRepo,
    fmt: str,
    check: Callable[[str], bool],
) -> None:
    kg("ingest", str(repo.path))
    assert check(kg("sparql", COMMITS, "--format", fmt).stdout)


@pytest.mark.parametrize("fmt", ["ttl", "nt", "jsonld"])
def test_sparql_construct_formats(
    kg: Callable[..., subprocess.CompletedProcess[str]], repo: GitRepo, tmp_path: Path, fmt: str
) -> None:
    import pyoxigraph as ox

    kg("ingest", str(repo.path))
    query = tmp_path / "q.rq"
    query.write_text("CONSTRUCT { ?c a <urn:C> } WHERE { ?c a <https://w3id.org/kg/ontology#Commit> }")
    out = kg("sparql", f"@{query}", "--format", fmt).stdout
    media = {"ttl": "text/turtle", "nt": "application/n-triples", "jsonld": "application/ld+json"}
    assert len(list(ox.parse(out.encode(), ox.RdfFormat.from_media_type(media[fmt])))) == 2
    if fmt == "ttl":  # Turtle with kg's prefixes, not only full IRIs
        assert (
            "@prefix prov: <http://www.w3.org/ns/prov#> ." in out
            and "@prefix schema: <http://schema.org/> ." in out
        )


def test_sparql_errors(kg: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    assert "error at" in kg("sparql", "SELECT nonsense", code=1).stderr
    assert "read-only" in kg("sparql", "CLEAR ALL", code=1).stderr


def test_status(kg: Callable[..., subprocess.CompletedProcess[str]], repo: GitRepo) -> None:
    kg("ingest", str(repo.path), "--project", "team/analysis")
    out = kg("status").stdout
    assert "team/analysis" in out and repo.head()[:12] in out
    assert "team/analysis" in kg("status", "team/analysis").stdout
    assert "no project" in kg("status", "team/other", code=1).stderr


def test_status_shows_full_names_and_the_next_attempt_in_utc(
    kg: Callable[..., subprocess.CompletedProcess[str]], repo: GitRepo, settings: Settings
) -> None:
    long = "a-namespace-with-a-rather-long-name/and-a-project-whose-name-goes-on-and-on-and-on"
    kg("ingest", str(repo.path), "--project", long)
    events = open_event_log(settings)
    events.enqueue(Push("k1", 7, "team/retried", "git://127.0.0.1/retried", "a" * 40))
    job = events.claim("w", 60)
    assert job is not None
    events.retry_later(job, "GitLab did not answer", 3600)
    events.close()
    out = kg("status").stdout  # 80 columns: the name must wrap, not be cut
    assert "…" not in out and long not in out.splitlines()
    first_column = "".join(line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│"))
    assert first_column == long + "team/retried"
    # the retry's time, in ISO 8601 UTC (a column of its own: wrapping would split it)
    assert re.search(r"\b20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\b", kg("status", "team/retried").stdout)


def test_forget(kg: Callable[..., subprocess.CompletedProcess[str]], repo: GitRepo) -> None:
    kg("ingest", str(repo.path), "--project", "team/analysis")
    kg("ingest", str(repo.path), "--project", "team/kept")
    assert kg("forget", "team/analysis").stdout.strip() == "forgot team/analysis"
    listed = kg("status").stdout
    assert "team/analysis" not in listed and "team/kept" in listed
    assert "no project" in kg("forget", "team/analysis", code=1).stderr
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?c a <https://w3id.org/kg/ontology#Commit> }"
    assert kg("sparql", "-f", "csv", count).stdout.split()[1] == "2"  # team/kept's only


def test_hook_token(kg: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    assert kg("hook-token", "42").stdout.strip() == hook_token("test-hook-secret", 42)


def test_ingest_a_branch_that_is_not_there_fails_clearly(
    kg: Callable[..., subprocess.CompletedProcess[str]], repo: GitRepo
) -> None:
    result = kg("ingest", str(repo.path), "--project", "team/analysis", "--branch", "nope", code=1)
    assert result.stderr.strip().splitlines() == ["error: no branch 'nope' in cli"]
    assert result.stdout == ""
    # an empty name is no branch either, not the default one
    empty = kg("ingest", str(repo.path), "--project", "team/analysis", "--branch", "", code=2)
    assert "--branch" in empty.stderr and "must name a branch" in empty.stderr


def test_ingest_a_remote_branch_of_a_fresh_clone(
    kg: Callable[..., subprocess.CompletedProcess[str]], repo: GitRepo, tmp_path: Path
) -> None:
    repo.git("checkout", "-q", "-b", "topic")
    topic = repo.commit({"t.txt": "topic"}, "on topic")
    repo.git("checkout", "-q", "main")
    clone = tmp_path / "clone"
    repo.git("clone", "-q", str(repo.path), str(clone))
    main = repo.git("rev-parse", "main")
    expected = {"origin/topic": topic, "topic": topic, "main": main}
    for branch in expected:
        slug = "team/" + branch.replace("/", "-")
        kg("ingest", str(clone), "--project", slug, "--branch", branch)
    store = open_store(Settings(data_dir=tmp_path / "kg"))
    try:
        heads = {r.slug: r.ingested_commit for r in store.projects()}
    finally:
        store.close()
    assert heads == {"team/" + b.replace("/", "-"): c for b, c in expected.items()}


def test_ingest_records_the_gitlab_id(
    kg: Callable[..., subprocess.CompletedProcess[str]], repo: GitRepo, tmp_path: Path
) -> None:
    kg("ingest", str(repo.path), "--project", "team/analysis", "--gitlab-id", "4242")
    store = open_store(Settings(data_dir=tmp_path / "kg"))
    try:
        records = [r for r in store.projects() if r.slug == "team/analysis"]
    finally:
        store.close()
    assert [r.gitlab_id for r in records] == [4242]


def test_a_missing_blob_is_a_warning_naming_it(
    kg: Callable[..., subprocess.CompletedProcess[str]], git_repo: Callable[[str], GitRepo]
) -> None:
    damaged = git_repo("damaged")
    damaged.commit({"a.txt": "".join(f"line {n}\n" for n in range(100))}, "first")
    damaged.commit({"a.txt": None, "b.txt": "".join(f"line {n}\n" for n in range(101))}, "renamed, edited")
    blob = damaged.git("rev-parse", "HEAD:b.txt")
    (damaged.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    result = kg("ingest", str(damaged.path), "--project", "team/damaged")
    match = SUMMARY.search(result.stdout)
    assert match is not None and match.group(3, 5) == ("2", "1"), result.stdout
    assert f"[git] git object {blob} is not readable" in result.stderr


def test_with_gitlab_the_id_and_readers_come_from_gitlab(
    repo: GitRepo, tmp_path: Path, gitlab_stand_in: IdentityServer
) -> None:
    gitlab_stand_in.gitlab_user("kg-instance-token-0123", 1)
    gitlab_stand_in.admins.add(1)
    gitlab_stand_in.gitlab_project(77, "team/secret", "private", {70: 40})
    env = {**kg_env(tmp_path / "kg"), "KG_GITLAB_URL": gitlab_stand_in.url}
    env["KG_GITLAB_TOKEN"] = "kg-instance-token-0123"
    result = CliRunner().invoke(app, ["ingest", str(repo.path), "--project", "team/secret"], env=env)
    assert result.exit_code == 0, result.output
    # a project GitLab does not know: the id stays unknown, with a warning, and the ingest goes on
    other = CliRunner().invoke(app, ["ingest", str(repo.path), "--project", "team/nowhere"], env=env)
    assert other.exit_code == 0, other.output
    assert "GitLab does not tell about team/nowhere" in other.output
    store = open_store(Settings(data_dir=tmp_path / "kg"))
    try:
        records = {r.slug: r for r in store.projects()}
    finally:
        store.close()
    secret = records["team/secret"]
    assert (secret.gitlab_id, secret.visibility, secret.members) == (77, "private", (("70", 40),))
    assert (records["team/nowhere"].gitlab_id, records["team/nowhere"].visibility) == (None, "public")


def test_every_reading_command_on_every_store(
    tmp_path: Path, any_store_env: dict[str, str], git_repo: Callable[[str], GitRepo]
) -> None:
    from tests.test_lineage import pipeline

    env = kg_env(tmp_path / "kg", **any_store_env)
    runner = CliRunner()

    def kg(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == code, result.output
        return result.stdout

    work = git_repo("pipeline")
    pipeline(work)
    assert SUMMARY.search(kg("ingest", str(work.path), "--project", "g/p"))
    labels = kg("sparql", COMMITS, "--format", "csv").splitlines()[1:]
    assert len(labels) == int(work.git("rev-list", "--count", "HEAD"))
    kind = "<https://w3id.org/kg/ontology#Commit>"
    turtle = kg("sparql", f"CONSTRUCT {{ ?c a {kind} }} WHERE {{ ?c a {kind} }}", "--format", "ttl")
    assert "@prefix kg: <https://w3id.org/kg/ontology#> ." in turtle and " a kg:Commit ." in turtle
    assert kind not in turtle
    tree = kg("lineage", "g/p", "report.pdf", "--direction", "upstream")
    assert "report.pdf" in tree and "data/clean.csv" in tree
    ran = [
        n
        for n in json.loads(kg("lineage", "g/p", "report.pdf", "-f", "json"))["nodes"]
        if n["type"] == "ProcessRun"
    ]
    assert ran and all(
        n["agent"] == "Ann Example" and len(n["commit"]) == 40 and n["time"][:2] == "20" for n in ran
    )
    assert "g/p" in kg("status", "g/p") and "success" in kg("status", "g/p")
    assert "reindexed 1 project(s)" in kg("reindex")
    assert "forgot g/p" in kg("forget", "g/p")
    assert kg("sparql", COMMITS, "--format", "csv").splitlines()[1:] == []
    kg("lineage", "g/p", "report.pdf", code=1)


@pytest.mark.parametrize("event_log", ["sqlite", "postgresql"])
def test_ingest_while_kg_serve_runs_hands_the_job_to_its_worker(
    tmp_path: Path, repo: GitRepo, event_log: str, request: pytest.FixtureRequest
) -> None:
    from tests.fixtures.servers import KgServer

    env = {"KG_EVENT_LOG_URL": request.getfixturevalue("postgres_url")} if event_log == "postgresql" else {}
    server = KgServer(tmp_path / "kg", {"KG_SPARQL_WORKERS": "1", **env})
    try:

        def ingest(*more: str) -> subprocess.CompletedProcess[str]:
            command = [sys.executable, "-m", "kg", "ingest", str(repo.path), "--project", "local/handed"]
            return subprocess.run(
                [*command, *more],
                env=kg_env(tmp_path / "kg", **env),
                capture_output=True,
                text=True,
                timeout=120,
            )

        done = ingest("--member", "7")
        assert done.returncode == 0, done.stderr
        assert "kg serve (pid " in done.stderr and "to its worker" in done.stderr
        (summary,) = SUMMARY.findall(done.stdout)
        assert summary[:3] == ("local/handed", "full", "2")
        with server.client() as client:
            rows = client.get("/sparql", params={"query": COMMITS}, headers={"Accept": "text/csv"})
        assert rows.text.split()[1:] == ["first", "second"]

        # what kg ingest says of a bad request, it says of a handed-off one too
        bad = ingest("--branch", "nope")
        assert bad.returncode == 1
        assert "error: no branch 'nope'" in bad.stderr
    finally:
        server.stop()
