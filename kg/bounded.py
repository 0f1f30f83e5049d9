"""Decoding untrusted bytes within fixed bounds: size, nesting depth, number of values.

Request bodies and repository files are written by strangers. Whatever a header or a
document claims, the decoders here refuse, before building anything, input that would
grow past its bounds: a 1 KB body cannot become a gigabyte of Python objects or a
stack overflow. Refusals are `Exceeded` (an `InvalidInput`), naming the bound.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

from kg.errors import InvalidInput


class Exceeded(InvalidInput):
    """The input is over one of its bounds; the message names the bound."""


@dataclass(frozen=True)
class Bounds:
    """How big a decoded document may get."""

    max_bytes: int = 64 * 1024 * 1024
    max_depth: int = 128
    """Nesting of arrays and objects; pyoxigraph's JSON-LD parser overflows its stack near
    5,000, and Python's recursive walkers near 1,000."""
    max_nodes: int = 2_000_000
    """Values (scalars, arrays, objects); each costs ~50-100 bytes once decoded."""


DOCUMENT = Bounds()
"""Metadata files in a repository (RO-Crate, PROV-JSON, run records, Renku objects)."""

# A JSON string, escapes included; the unrolled loop never backtracks.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_OPEN = frozenset(b"[{")
_BRACKETS = bytes(range(256)).translate(None, b"[]{}")


def check_json(raw: bytes, bounds: Bounds = DOCUMENT, *, what: str = "JSON") -> None:
    """Raise `Exceeded` if `raw` is over its size, or, decoded, over its depth or value count.

    Counting happens on the bytes (strings blanked out first), so nothing is decoded.

    >>> check_json(b'{"a": [1, 2, {"b": "[[[["}]}', Bounds(max_depth=3))
    >>> check_json(b'[[[[1]]]]', Bounds(max_depth=3))
    Traceback (most recent call last):
    ...
    kg.bounded.Exceeded: JSON nested deeper than 3
    """
    if len(raw) > bounds.max_bytes:
        raise Exceeded(f"{what} larger than {bounds.max_bytes} bytes")
    opens = raw.count(b"[") + raw.count(b"{")
    if opens <= bounds.max_depth and opens + raw.count(b",") < bounds.max_nodes:
        return  # cannot be over either bound, whatever the strings hold
    bare = _STRING.sub(b'""', raw)
    # every value is the first in its container, follows a comma, or is the document
    if bare.count(b",") + bare.count(b"[") + bare.count(b"{") + 1 > bounds.max_nodes:
        raise Exceeded(f"{what} holds more than {bounds.max_nodes} values")
    brackets = bare.translate(None, _BRACKETS)
    depth = max(itertools.accumulate(brackets, lambda d, b: d + 1 if b in _OPEN else d - 1, initial=0))
    if depth > bounds.max_depth:
        raise Exceeded(f"{what} nested deeper than {bounds.max_depth}")


def loads_json(raw: bytes | str, bounds: Bounds = DOCUMENT, *, what: str = "JSON") -> Any:
    """`json.loads` within `bounds`: `Exceeded` if over them, `InvalidInput` if not JSON.

    >>> loads_json(b'{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> loads_json(b'{"a": ')
    Traceback (most recent call last):
    ...
    kg.errors.InvalidInput: not JSON: Expecting value: line 1 column 7 (char 6)
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    check_json(data, bounds, what=what)
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"not {what}: {exc}") from None
    except RecursionError:  # only if max_depth was set near Python's own limit
        raise Exceeded(f"{what} nested too deeply") from None
