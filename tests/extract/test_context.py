"""What every extractor relies on: the IRI guard, the per-file guard, and reading blobs."""

from __future__ import annotations

import io
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kg.bounded import Exceeded
from kg.errors import InvalidInput
from kg.extract.blobs import BlobReader, repo_path
from kg.extract.context import Context
from tests.extract.helpers import MINTER, PROJECT
from tests.fixtures.gitrepo import GitRepo

OTHER = MINTER.project("other/p")


@pytest.fixture
def repo(git_repo: Callable[[str], GitRepo]) -> GitRepo:
    repo = git_repo("blobs")
    repo.commit({"a.txt": "alpha\n", "big.bin": b"x" * 100_000, "dir/b.txt": "beta\n"}, "files")
    return repo


@pytest.fixture
def ctx(repo: GitRepo) -> Iterator[Context]:
    context = Context(MINTER, PROJECT, repo.path, io.StringIO(), BlobReader(repo.path))
    yield context
    context.blobs.close()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://orcid.org/0000-0001-9842-9718", "https://orcid.org/0000-0001-9842-9718"),
        ("mailto:ann@example.org", "mailto:ann@example.org"),
        ("urn:hash::sha1:97fe1b50b4582cebc7d853796ebd62e3e163aa3f", "same"),
        (f"{PROJECT}", "same"),
        (f"{PROJECT}/-/renku/datasets/x", "same"),
        (f"{OTHER}", f"{PROJECT}/-/foreign/projects/other/p"),
        (f"{OTHER}/-/record", f"{PROJECT}/-/foreign/projects/other/p/-/record"),
        (f"{PROJECT}-fork/-/x", f"{PROJECT}/-/foreign/projects/group/project-fork/-/x"),
        ("https://kg.test/persons/abc", f"{PROJECT}/-/foreign/persons/abc"),
        ("HTTPS://KG.TEST/projects/other/p", f"{PROJECT}/-/foreign/projects/other/p"),
        (f"{PROJECT}/-/../../other/p", "hashed"),
        (f"{PROJECT}/-/%2e%2e/x", "hashed"),
        ("https://x.org/a b", None),
        (f'{OTHER}> <https://w3id.org/kg/ontology#visibility> "public" .\n<https://x.org/y', None),
        ("https://x.org/\x00", None),
        ("https://x.org/{a}", None),
        ("https://x.org/a\\b", None),
        ("relative/path", None),
        ("https://x.org/%zz", None),
        ("https://x.org/" + "a" * 9000, None),
        ("https://x.org/\udcff", None),
    ],
)
def test_document_iri(ctx: Context, value: str, expected: str | None) -> None:
    with ctx.reading("test", "c0ffee", "doc.json"):
        got = ctx.document_iri(value)
    if expected == "same":
        assert got == value and ctx.warnings == []
    elif expected == "hashed":
        assert got is not None and got.startswith(f"{PROJECT}/-/foreign/") and ".." not in got
        assert got.rsplit("/", 1)[1].isalnum()
    elif expected is None:
        assert got is None
        assert [(w.path, w.reason.split(":")[0]) for w in ctx.warnings] == [
            ("doc.json", "invalid IRI dropped")
        ]
    else:
        assert got == expected
        if got != value:
            (warning,) = ctx.warnings
            assert warning.reason.startswith("IRI under kg's base moved into the project")


def test_notes_are_one_warning_per_reason_per_file(ctx: Context) -> None:
    with ctx.reading("test", "c0ffee", "one.json"):
        for bad in ("a b", "c d", "e f"):
            ctx.document_iri(f"https://x.org/{bad}")
        ctx.document_iri(OTHER)
    with ctx.reading("test", "c0ffee", "two.json"):
        ctx.document_iri("https://x.org/g h")
    assert [(w.path, w.reason) for w in ctx.warnings] == [
        ("one.json", "invalid IRI dropped: 'https://x.org/a b' (3 times)"),
        ("one.json", f"IRI under kg's base moved into the project: {OTHER!r}"),
        ("two.json", "invalid IRI dropped: 'https://x.org/g h'"),
    ]


def test_reading_costs_one_file_and_never_shows_library_messages(ctx: Context) -> None:
    done = []
    for name in ("bound.yaml", "bug.yaml", "fine.yaml"):
        with ctx.reading("dvc", "c0ffee", name):
            if name == "bound.yaml":
                raise Exceeded("YAML expands to more than 2000000 values")
            if name == "bug.yaml":
                Path("/nonexistent/kg-data/tmp/x.nt").read_bytes()  # an OSError naming a server path
            done.append(name)
    assert done == ["fine.yaml"]
    assert [(w.path, w.reason) for w in ctx.warnings] == [
        ("bound.yaml", "YAML expands to more than 2000000 values"),
        ("bug.yaml", "extractor error (FileNotFoundError)"),
    ]


def test_reading_scopes_nest(ctx: Context) -> None:
    with ctx.reading("datalad", "c0ffee"):
        with ctx.reading("datalad", "c0ffee", "sidecar"):
            raise InvalidInput("not JSON: x")
        ctx.note("path outside the repository skipped", "../x")
    assert [(w.path, w.reason) for w in ctx.warnings] == [
        ("sidecar", "not JSON: x"),
        (None, "path outside the repository skipped: '../x'"),
    ]


@pytest.mark.parametrize(
    ("value", "base", "expected"),
    [
        ("a.csv", "", "a.csv"),
        ("./a/../b.csv", "", "b.csv"),
        ("../x.csv", "data/sub", "data/x.csv"),
        ("x.csv", "/abs", None),
        ("../../etc/hostname", "", None),
        ("../../etc/hostname", "data", None),
        ("/etc/hostname", "data", None),
        ("a\nb", "", None),
        ("a\0b", "", None),
        ("a" * 5000, "", None),
        (".", "", "."),
    ],
)
def test_repo_path(value: str, base: str, expected: str | None) -> None:
    assert repo_path(value, base) == expected


def test_blobs_outside_the_repository_do_not_stop_git(repo: GitRepo) -> None:
    blobs = BlobReader(repo.path)
    head = repo.head()
    for spec in (f"{head}:../../etc/hostname", f"{head}:/etc/hostname", f"{head}:a.txt\ninfo {head}:a.txt"):
        assert blobs.read(spec) is None
    assert blobs.read(f"{head}:a.txt") == b"alpha\n"
    blobs.close()


def test_blobs_are_sized_before_they_are_read(repo: GitRepo) -> None:
    blobs = BlobReader(repo.path, max_size=1000)
    head = repo.head()
    with pytest.raises(Exceeded, match="larger than 1000 bytes"):
        blobs.read(f"{head}:big.bin")
    assert blobs.read(f"{head}:big.bin", limit=200_000) == b"x" * 100_000
    assert blobs.read(f"{head}:dir") is None  # a tree, not a blob
    assert blobs.read(f"{head}:dir/b.txt") == b"beta\n"  # nothing left unread in the pipe
    blobs.close()


def test_a_missing_path_with_spaces_is_missing(repo: GitRepo) -> None:
    blobs = BlobReader(repo.path)
    head = repo.head()
    # git answers "<spec> missing": three words when the spec holds a space
    assert blobs.info(f"{head}:no such") is None
    assert blobs.read(f"{head}:not here either") is None
    assert blobs.read(f"{head}:a.txt") == b"alpha\n"
    blobs.close()


def test_a_dead_git_is_restarted(repo: GitRepo) -> None:
    blobs = BlobReader(repo.path)
    head = repo.head()
    assert blobs.read(f"{head}:a.txt") == b"alpha\n"
    assert blobs._process is not None
    os.kill(blobs._process.pid, signal.SIGKILL)
    blobs._process.wait()
    assert blobs.read(f"{head}:a.txt") is None  # the read that found it dead counts as missing
    assert blobs.read(f"{head}:a.txt") == b"alpha\n"
    blobs.close()
    blobs.close()  # twice is harmless
