"""kg.extract.glob: the semantics DataLad globs had in kg (a regex per pattern), in linear time."""

from __future__ import annotations

import fnmatch
import random
import re
import time

import pytest

from kg.bounded import Exceeded
from kg.extract.glob import MAX_PATTERN, Glob
from tests.fixtures.bombs import LONG_PATH, PATHOLOGICAL_GLOB


def regex_glob(pattern: str) -> re.Pattern[str]:
    """The translation kg used before (`datalad.glob_regex`): the oracle for plain globs."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        out.append({"*": "[^/]*", "?": "[^/]"}.get(pattern[i], re.escape(pattern[i])))
        i += 1
    return re.compile("".join(out) + "(/.*)?$")


CASES = [
    ("first/sub-*/*_seg.nii.gz", "first/sub-01/a_seg.nii.gz", True),
    ("first/sub-*/*_seg.nii.gz", "first/sub-01/x/a_seg.nii.gz", False),
    ("a/*.png", "a/b/c.png", False),
    ("a/*.png", "a/.png", True),
    ("a/**.png", "a/b/c.png", True),
    ("a/**/c.png", "a/c.png", False),  # ** is any string, slashes included, not "any directories"
    ("a/**/c.png", "a/b/d/c.png", True),
    ("**", "anything/at/all", True),
    ("in", "in/sub/c.csv", True),  # a directory names everything below it
    ("in", "input.csv", False),
    ("in/*", "in/sub/c.csv", True),  # in/sub matches, and c.csv is below it
    ("in/*.csv", "in/sub/c.csv", False),
    ("d?t?", "data", True),
    ("d?t?", "d/ta", False),  # ? never matches /
    ("*", "", True),
    ("", "", True),
    ("", "a", False),
    ("x*", "x/y", True),
    ("*.csv", "a.csv.bak", False),
    ("a*b*c", "abbbc", True),
    ("a*b*c", "acb", False),
    ("sub-0[1-3]/*", "sub-02/x", True),
    ("sub-0[1-3]/*", "sub-04/x", False),
    ("sub-0[!1-3]", "sub-04", True),
    ("[]]x", "]x", True),
    ("[a/b]", "/", False),  # a class never matches /
    ("a[", "a[", True),  # unclosed: a literal bracket
    ("*[*", "x[y", True),  # unclosed: [ literal, then a star
    ("*[*", "xy", False),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), CASES)
def test_semantics(pattern: str, path: str, expected: bool) -> None:
    assert Glob(pattern).match(path) is expected
    if "[" not in pattern:  # the old translation had no character classes
        assert bool(regex_glob(pattern).match(path)) is expected


def test_equal_to_the_old_regex_on_random_plain_globs() -> None:
    rng = random.Random(7)
    for _ in range(20_000):
        pattern = "".join(rng.choice("ab/.*?") for _ in range(rng.randint(0, 8)))
        path = "".join(rng.choice("ab/.c") for _ in range(rng.randint(0, 10)))
        assert Glob(pattern).match(path) == bool(regex_glob(pattern).match(path)), (pattern, path)


def test_classes_as_fnmatch_reads_them_within_a_segment() -> None:
    rng = random.Random(8)
    for _ in range(20_000):
        pattern = "".join(rng.choice("ab-!]^[*?") for _ in range(rng.randint(0, 8)))
        path = "".join(rng.choice("ab-!]^[") for _ in range(rng.randint(0, 6)))
        assert Glob(pattern).match(path) == fnmatch.fnmatchcase(path, pattern), (pattern, path)


def test_the_pathological_glob_returns_in_milliseconds() -> None:
    started = time.monotonic()
    assert not Glob(PATHOLOGICAL_GLOB).match(LONG_PATH)
    assert not Glob("*x" * 500 + "y").match("x" * 4000)
    assert not Glob("**x" * 300 + "y").match("x/" * 2000)
    assert time.monotonic() - started < 1  # the old regex: C(200, 25) ways to backtrack


def test_pattern_length_is_capped() -> None:
    Glob("a" * MAX_PATTERN)
    with pytest.raises(Exceeded, match=f"longer than {MAX_PATTERN} characters"):
        Glob("a" * (MAX_PATTERN + 1))
