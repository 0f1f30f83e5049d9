"""Shell-style globs over repository paths, matched in time linear in the path.

`*` and `?` stay within one path segment, `**` crosses segments, `[...]` is a character
class as in Python's `fnmatch` (`[!...]` negates; never matches `/`), and a pattern that
names a directory matches everything below it. DataLad writes such globs into run records;
a backtracking regex takes exponential time on `*x*x*x...` over a long path, so the pattern
is simulated as an automaton instead, one bit per pattern position (Russ Cox, "Glob
Matching Can Be Simple And Fast Too"): O(len(path) x len(pattern) / 64) word operations.
"""

from __future__ import annotations

from dataclasses import dataclass

from kg.bounded import Exceeded

MAX_PATTERN = 1024
"""Longer patterns are refused: a path is at most 4096 bytes, and real globs are short."""

_ONE, _STAR, _ANY = "?", "*", "**"


@dataclass(frozen=True)
class _Class:
    """`[...]`: characters and ranges, maybe negated."""

    chars: str
    ranges: tuple[tuple[str, str], ...]
    negated: bool

    def __contains__(self, c: str) -> bool:
        found = c in self.chars or any(lo <= c <= hi for lo, hi in self.ranges)
        return found != self.negated and c != "/"


def _class(pattern: str, start: int) -> tuple[_Class, int] | None:
    """The class opening at `pattern[start] == "["` and where it ends, or None if unclosed."""
    i = start + 1
    negated = i < len(pattern) and pattern[i] == "!"
    i += negated
    first = i
    chars, ranges = [], []
    while i < len(pattern) and (pattern[i] != "]" or i == first):  # a leading ] is literal
        if i + 2 < len(pattern) and pattern[i + 1] == "-" and pattern[i + 2] != "]":
            ranges.append((pattern[i], pattern[i + 2]))
            i += 3
        else:
            chars.append(pattern[i])
            i += 1
    if i >= len(pattern):
        return None
    return _Class("".join(chars), tuple(ranges), negated), i + 1


Token = str | _Class


def _tokens(pattern: str) -> list[Token]:
    """Literal characters, `?`, classes, and runs of stars as one `*` or `**`."""
    out: list[Token] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            end = i
            while end < len(pattern) and pattern[end] == "*":
                end += 1
            out.append(_ANY if end - i > 1 else _STAR)
            i = end
            continue
        if c == "[":
            found = _class(pattern, i)
            if found is not None:
                out.append(found[0])
                i = found[1]
                continue
        out.append(_ONE if c == "?" else c)
        i += 1
    # `*` next to `**` adds nothing: one star token per run keeps the closure a single step
    merged: list[Token] = []
    for token in out:
        if token in (_STAR, _ANY) and merged and merged[-1] in (_STAR, _ANY):
            merged[-1] = _ANY if _ANY in (token, merged[-1]) else _STAR
        else:
            merged.append(token)
    return merged


def has_magic(pattern: str) -> bool:
    """Whether `pattern` is a glob rather than a path.

    >>> has_magic("in/*.csv"), has_magic("in/a.csv")
    (True, False)
    """
    return any(c in pattern for c in "*?[")


class Glob:
    """A compiled pattern; raises `Exceeded` if longer than `MAX_PATTERN`.

    >>> Glob("first/sub-*/*_seg.nii.gz").match("first/sub-01/a_seg.nii.gz")
    True
    >>> Glob("a/*.png").match("a/b/c.png"), Glob("a/**.png").match("a/b/c.png")
    (False, True)
    >>> Glob("data").match("data/x/y.csv"), Glob("d[!a-c]t?").match("dzt1")
    (True, True)
    """

    def __init__(self, pattern: str) -> None:
        if len(pattern) > MAX_PATTERN:
            raise Exceeded(f"glob longer than {MAX_PATTERN} characters")
        self.pattern = pattern
        self._tokens = _tokens(pattern)
        self._done = 1 << len(self._tokens)
        self._stars = sum(1 << i for i, t in enumerate(self._tokens) if t in (_STAR, _ANY))
        self._any = sum(1 << i for i, t in enumerate(self._tokens) if t == _ANY)
        self._steps: dict[str, tuple[int, int]] = {}
        prefix = []
        for token in self._tokens:  # paths must start with the literal head
            if not isinstance(token, str) or token in (_ONE, _STAR, _ANY):
                break
            prefix.append(token)
        self._prefix = "".join(prefix)

    def _step(self, c: str) -> tuple[int, int]:
        """(positions that consume `c` and move on, positions that consume `c` and stay)."""
        if c not in self._steps:
            advance = 0
            for i, token in enumerate(self._tokens):
                if isinstance(token, _Class):
                    hit = c in token
                elif token == _ONE:
                    hit = c != "/"
                else:  # a literal; a star never moves on by consuming
                    hit = token == c and token not in (_STAR, _ANY)
                advance |= hit << i
            stay = self._any | (self._stars if c != "/" else 0)
            self._steps[c] = (advance, stay)
        return self._steps[c]

    def _closure(self, states: int) -> int:
        return states | ((states & self._stars) << 1)  # a star may match nothing

    def match(self, path: str) -> bool:
        """Whether `path`, or a directory above it, matches the whole pattern."""
        if not path.startswith(self._prefix):
            return False
        states = self._closure(1)
        for c in path:
            if c == "/" and states & self._done:
                return True  # the pattern names a directory holding `path`
            advance, stay = self._step(c)
            states = self._closure(((states & advance) << 1) | (states & stay))
            if not states:
                return False
        return bool(states & self._done)
