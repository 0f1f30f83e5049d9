"""The git history extractor on real repositories built by the tests."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import iri as mint
from kg.extract.context import BlobReader, Context
from kg.extract.walk import walk
from kg.iri import Minter
from kg.vocab import KG, PROV, RDF_TYPE, SCHEMA
from tests.fixtures.gitrepo import BOB, GitRepo

MINTER = Minter("https://kg.test/")
PROJECT = MINTER.project("group/project")


def graph(repo: GitRepo, revisions: list[str] | None = None) -> ox.Store:
    """Extract `revisions` (default: HEAD) into an in-memory store's default graph."""
    out = io.StringIO()
    walk(Context(MINTER, PROJECT, repo.path, out, BlobReader(repo.path)), revisions or ["HEAD"], [])
    store = ox.Store()
    store.load(out.getvalue(), ox.RdfFormat.N_TRIPLES)
    return store


def triples(store: ox.Store) -> set[ox.Quad]:
    return set(store.quads_for_pattern(None, None, None))


def objects(store: ox.Store, subject: str, predicate: str) -> set[str]:
    return {
        q.object.value for q in store.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(predicate), None)
    }


def subjects(store: ox.Store, predicate: str, obj: ox.NamedNode | ox.Literal) -> set[str]:
    return {q.subject.value for q in store.quads_for_pattern(None, ox.NamedNode(predicate), obj)}


def commit_iri(sha: str) -> str:
    return mint.commit(PROJECT, sha)


def version(path: str, repo: GitRepo, rev: str) -> str:
    return mint.file_version(PROJECT, path, repo.git("rev-parse", f"{rev}:{path}"))


@pytest.fixture
def repo(git_repo: Callable[[str], GitRepo]) -> GitRepo:
    return git_repo("history")


def test_commit_is_an_activity_with_agents_times_message_and_parents(repo: GitRepo) -> None:
    first = repo.commit({"a.txt": "1\n"}, "first")
    second = repo.commit({"a.txt": "2\n"}, 'second: "quoted"\n\nbody \\ with backslash', author=BOB)
    store = graph(repo)
    c2 = commit_iri(second)
    assert objects(store, c2, RDF_TYPE) == {PROV + "Activity", KG + "Commit"}
    assert objects(store, c2, KG + "message") == {'second: "quoted"\n\nbody \\ with backslash'}
    assert objects(store, c2, PROV + "wasInformedBy") == {commit_iri(first)}
    assert objects(store, commit_iri(first), PROV + "wasInformedBy") == set()
    (started,) = objects(store, c2, PROV + "startedAtTime")
    assert started.endswith("+02:00")
    (bob,) = objects(store, c2, KG + "author")
    assert objects(store, bob, SCHEMA + "name") == {BOB[0]}
    assert objects(store, bob, SCHEMA + "email") == {BOB[1]}
    assert SCHEMA + "Person" in objects(store, bob, RDF_TYPE)
    assert objects(store, c2, PROV + "wasAssociatedWith") == {bob}


def test_one_person_iri_across_commits_and_spellings(repo: GitRepo) -> None:
    repo.commit({"a": "1"}, "one", author=("Ann", "ann@example.org"))
    repo.commit({"a": "2"}, "two", author=("Ann Ex", "ANN@example.org"))
    store = graph(repo)
    people = subjects(store, RDF_TYPE, ox.NamedNode(SCHEMA + "Person"))
    assert len(people) == 1
    assert objects(store, people.pop(), SCHEMA + "name") == {"Ann", "Ann Ex"}


def test_file_versions_are_generated_revised_and_invalidated(repo: GitRepo) -> None:
    add = repo.commit({"data/x.csv": "a\n"}, "add")
    v1 = version("data/x.csv", repo, add)
    change = repo.commit({"data/x.csv": "b\n"}, "change")
    v2 = version("data/x.csv", repo, change)
    delete = repo.commit({"data/x.csv": None}, "delete")
    store = graph(repo)
    assert objects(store, v1, PROV + "atLocation") == {"data/x.csv"}
    assert objects(store, v1, PROV + "wasGeneratedBy") == {commit_iri(add)}
    assert objects(store, v2, PROV + "wasGeneratedBy") == {commit_iri(change)}
    assert objects(store, v2, PROV + "wasRevisionOf") == {v1}
    assert objects(store, v2, KG + "blob") == {repo.git("rev-parse", f"{change}:data/x.csv")}
    assert objects(store, v2, PROV + "wasInvalidatedBy") == {commit_iri(delete)}
    assert objects(store, v1, PROV + "wasInvalidatedBy") == set()
    assert PROV + "Entity" in objects(store, v1, RDF_TYPE)


def test_rename_links_the_new_path_to_the_old_one(repo: GitRepo) -> None:
    add = repo.commit({"src/old name.py": "print('hello world')\n" * 20}, "add")
    old = version("src/old name.py", repo, add)
    move = repo.commit(renames={"src/old name.py": "pkg/new.py"}, message="move")
    new = version("pkg/new.py", repo, move)
    store = graph(repo)
    assert objects(store, new, PROV + "wasRevisionOf") == {old}
    assert objects(store, new, PROV + "atLocation") == {"pkg/new.py"}
    assert objects(store, old, PROV + "wasInvalidatedBy") == {commit_iri(move)}


def test_merge_generates_only_what_differs_from_every_parent(repo: GitRepo) -> None:
    repo.commit({"shared.txt": "base\n", "other.txt": "o\n"}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    feature = repo.commit({"shared.txt": "feature\n", "f.txt": "f\n"}, "feature work")
    repo.git("checkout", "-q", "main")
    main = repo.commit({"shared.txt": "main\n"}, "main work")
    with pytest.raises(Exception):  # noqa: B017, PT011 - a conflict makes git exit non-zero
        repo.git("merge", "-q", "feature", "-m", "merge")
    (repo.path / "shared.txt").write_text("resolved\n")
    repo.git("add", "shared.txt")
    repo.git("commit", "-q", "-m", "merge feature")
    merge = repo.head()
    store = graph(repo)
    m = commit_iri(merge)
    assert objects(store, m, PROV + "wasInformedBy") == {commit_iri(main), commit_iri(feature)}
    generated = subjects(store, PROV + "wasGeneratedBy", ox.NamedNode(m))
    resolved = version("shared.txt", repo, merge)
    assert generated == {resolved}
    assert objects(store, resolved, PROV + "wasRevisionOf") == {
        version("shared.txt", repo, main),
        version("shared.txt", repo, feature),
    }
    # f.txt came in with the merge but was generated on the branch
    assert objects(store, version("f.txt", repo, merge), PROV + "wasGeneratedBy") == {commit_iri(feature)}


def test_unicode_spaces_control_characters_and_binary_paths(repo: GitRepo) -> None:
    names = ["données/é è.csv", "with space/and\ttab.txt", 'quote"and\\slash.txt', "日本語.bin"]
    sha = repo.commit({names[0]: "x", names[1]: "y", names[2]: "z", names[3]: b"\x00\xff" * 500})
    store = graph(repo)
    locations = {
        q.object.value for q in store.quads_for_pattern(None, ox.NamedNode(PROV + "atLocation"), None)
    }
    assert locations == set(names)
    for name in names:
        assert objects(store, version(name, repo, sha), PROV + "wasGeneratedBy") == {commit_iri(sha)}


def test_empty_commit_is_an_activity_without_entities(repo: GitRepo) -> None:
    repo.commit({"a": "1"}, "first")
    empty = repo.commit(message="nothing changed")
    store = graph(repo)
    assert objects(store, commit_iri(empty), RDF_TYPE) == {PROV + "Activity", KG + "Commit"}
    assert subjects(store, PROV + "wasGeneratedBy", ox.NamedNode(commit_iri(empty))) == set()


def test_huge_commit(repo: GitRepo) -> None:
    files: dict[str, str | bytes | None] = {f"d{i % 50}/f{i}.txt": f"{i}\n" for i in range(3000)}
    sha = repo.commit(files, "import everything")
    store = graph(repo)
    assert len(subjects(store, PROV + "wasGeneratedBy", ox.NamedNode(commit_iri(sha)))) == 3000


def _history(repo: GitRepo) -> list[str]:
    shas = [repo.commit({"a.txt": "1", "b/c d.txt": "2"}, "one")]
    shas.append(repo.commit({"a.txt": "3"}, "two", author=BOB))
    repo.git("checkout", "-q", "-b", "side")
    shas.append(repo.commit({"side.txt": "s"}, "side"))
    repo.git("checkout", "-q", "main")
    shas.append(repo.commit(renames={"b/c d.txt": "e.txt"}, message="three"))
    repo.git("merge", "-q", "--no-ff", "side", "-m", "merge side")
    shas.append(repo.head())
    shas.append(repo.commit({"a.txt": None}, "four"))
    return shas


def test_extracting_twice_gives_the_same_graph(repo: GitRepo) -> None:
    _history(repo)
    assert triples(graph(repo)) == triples(graph(repo))  # no blank nodes: equal sets = isomorphic


def test_incremental_extraction_equals_full(repo: GitRepo) -> None:
    shas = _history(repo)
    full = triples(graph(repo))
    pieces: set[ox.Quad] = set()
    previous: str | None = None
    for sha in shas:
        revisions = [sha] + ([f"^{previous}"] if previous else [])
        pieces |= triples(graph(repo, revisions))
        previous = sha
    assert pieces == full


def test_unreadable_revision_is_a_clear_error(repo: GitRepo, tmp_path: Path) -> None:
    from kg.errors import CommandFailed

    repo.commit({"a": "1"})
    with pytest.raises(CommandFailed, match="exited 128"):
        graph(repo, ["does-not-exist"])
