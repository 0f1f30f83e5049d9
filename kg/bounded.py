"""Decoding untrusted bytes within fixed bounds: size, nesting depth, number of values.

Request bodies and repository files are written by strangers. Whatever a header or a
document claims, the decoders here refuse, before building anything, input that would
grow past its bounds: a 1 KB body cannot become a gigabyte of Python objects or a
stack overflow. Refusals are `Exceeded` (an `InvalidInput`), naming the bound.

JSON, YAML (aliases counted every time they are used), zstd and xz (output capped
whatever the header claims), and XML for pyoxigraph (entities expanded by libxml2 within
its own limits, no DTD, no external entities) each have one decoder here.
"""

from __future__ import annotations

import itertools
import json
import lzma
import re
from dataclasses import dataclass
from typing import Any

import yaml
import zstandard
from lxml import etree

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


# Compressed input is fed in small pieces: a zstd block of 4 bytes (run-length) inflates to
# 128 KB, so a piece of this size overshoots the cap by 8 MB at most.
_PIECE = 256


def decompress_zstd(raw: bytes, bounds: Bounds = DOCUMENT, *, what: str = "zstd data") -> bytes:
    """One zstd frame, inflated to at most `bounds.max_bytes` whatever its header claims.

    >>> decompress_zstd(zstandard.ZstdCompressor().compress(b"hello"))
    b'hello'
    >>> decompress_zstd(zstandard.ZstdCompressor().compress(bytes(4096)), Bounds(max_bytes=1000))
    Traceback (most recent call last):
    ...
    kg.bounded.Exceeded: zstd data inflates to more than 1000 bytes
    """
    # `ZstdDecompressor.decompress(max_output_size=)` trusts a content size in the frame
    # header, and a stream reader cannot tell a truncated frame from a whole one.
    inflater = zstandard.ZstdDecompressor().decompressobj()
    out: list[bytes] = []
    size = 0
    try:
        for start in range(0, len(raw), _PIECE):
            piece = inflater.decompress(raw[start : start + _PIECE])
            size += len(piece)
            if size > bounds.max_bytes:
                raise Exceeded(f"{what} inflates to more than {bounds.max_bytes} bytes")
            out.append(piece)
            if inflater.eof:
                break
    except zstandard.ZstdError as exc:
        raise InvalidInput(f"not {what}: {exc}") from None
    if not inflater.eof:
        raise InvalidInput(f"not {what}: truncated frame")
    return b"".join(out)


# Enough for any xz preset (-9 needs 65 MB); a header asking for more is refused.
_XZ_MEMORY = 128 * 1024 * 1024


def decompress_xz(raw: bytes, bounds: Bounds = DOCUMENT, *, what: str = "xz data") -> bytes:
    """xz (or legacy lzma) streams, one after another as `lzma.decompress` reads them,
    inflated to at most `bounds.max_bytes` in all.

    >>> decompress_xz(lzma.compress(b"hel") + lzma.compress(b"lo"))
    b'hello'
    >>> decompress_xz(lzma.compress(bytes(4096)), Bounds(max_bytes=1000))
    Traceback (most recent call last):
    ...
    kg.bounded.Exceeded: xz data inflates to more than 1000 bytes
    """
    out: list[bytes] = []
    left = bounds.max_bytes
    while raw:
        inflater = lzma.LZMADecompressor(lzma.FORMAT_AUTO, memlimit=_XZ_MEMORY)
        try:
            data = inflater.decompress(raw, max_length=left + 1)
        except lzma.LZMAError as exc:
            if out:
                break  # what follows a whole stream is not one: ignored, as lzma.decompress does
            raise InvalidInput(f"not {what}: {exc}") from None
        if len(data) > left:
            raise Exceeded(f"{what} inflates to more than {bounds.max_bytes} bytes")
        if not inflater.eof:
            raise InvalidInput(f"not {what}: truncated stream")
        out.append(data)
        left -= len(data)
        raw = inflater.unused_data
    return b"".join(out)


# libyaml's parser where PyYAML has it: ten times faster on lock files than pure Python.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YAML_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_YAML_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def check_yaml(text: str, bounds: Bounds = DOCUMENT, *, what: str = "YAML") -> None:
    """Raise `Exceeded` if `text`, with every alias expanded, is over the depth, value or size
    bound (scalars' characters count against `max_bytes`).

    One pass over the parser's events, which libyaml produces without recursion (its
    composer recurses per nesting level and crashes the process near depth 100,000). An
    anchored node's expanded size and height are remembered, so an alias costs one lookup.

    >>> check_yaml("a: &x [1, 2]\\nb: [*x, *x]", Bounds(max_nodes=13))
    >>> check_yaml("a: &x [1, 2]\\nb: [*x, *x, *x]", Bounds(max_nodes=13))
    Traceback (most recent call last):
    ...
    kg.bounded.Exceeded: YAML expands to more than 13 values
    >>> check_yaml("a: &x [[1]]\\nb: [*x]", Bounds(max_depth=3))
    Traceback (most recent call last):
    ...
    kg.bounded.Exceeded: YAML nested deeper than 3
    """
    values = chars = 0  # so far, aliases expanded
    anchors: dict[str, tuple[int, int, int]] = {}  # anchor: (values, characters, height)
    open_: list[tuple[str | None, int, int, list[int]]] = []  # anchor, values and chars before it, [tallest]
    try:
        for event in yaml.parse(text, Loader=_YAML_LOADER):
            if isinstance(event, _YAML_OPEN):
                open_.append((event.anchor, values, chars, [0]))
                added = (1, 0, 0)
            elif isinstance(event, _YAML_CLOSE):
                anchor, values_before, chars_before, tallest = open_.pop()
                added = (0, 0, tallest[0] + 1)
                if anchor is not None:
                    anchors[anchor] = (values - values_before, chars - chars_before, added[2])
            elif isinstance(event, yaml.ScalarEvent):
                added = (1, len(event.value), 0)
                if event.anchor is not None:
                    anchors[event.anchor] = added
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors and any(a == event.anchor for a, *_ in open_):
                    raise Exceeded(f"{what} expands without end (an alias inside its own anchor)")
                added = anchors.get(event.anchor or "", (1, 0, 0))  # undefined: the loader says so
            else:
                continue  # stream and document boundaries
            values, chars, height = values + added[0], chars + added[1], added[2]
            if values > bounds.max_nodes:
                raise Exceeded(f"{what} expands to more than {bounds.max_nodes} values")
            if chars > bounds.max_bytes:  # one long string, repeated by aliases
                raise Exceeded(f"{what} expands to more than {bounds.max_bytes} characters")
            if len(open_) + height > bounds.max_depth:  # open collections around it, its own height
                raise Exceeded(f"{what} nested deeper than {bounds.max_depth}")
            if open_ and not isinstance(event, _YAML_OPEN):
                tallest = open_[-1][3]
                tallest[0] = max(tallest[0], height)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"not {what}: {str(exc).splitlines()[0]}") from None


def loads_yaml(raw: bytes, bounds: Bounds = DOCUMENT, *, what: str = "YAML") -> Any:
    """`yaml.safe_load` within `bounds`: `Exceeded` if over them, `InvalidInput` if not YAML.

    Billion laughs is refused before anything is built:

    >>> loads_yaml(b"a: &x [1, 2]\\nb: *x")
    {'a': [1, 2], 'b': [1, 2]}
    >>> laughs = b"a: &a [x, x, x, x, x, x, x, x, x, x]\\n" + b"".join(
    ...     b"%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\\n" % ((c, c) + (c - 1,) * 10)
    ...     for c in range(ord("b"), ord("k")))
    >>> loads_yaml(laughs)
    Traceback (most recent call last):
    ...
    kg.bounded.Exceeded: YAML expands to more than 2000000 values
    """
    if len(raw) > bounds.max_bytes:
        raise Exceeded(f"{what} larger than {bounds.max_bytes} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"not {what}: {exc}") from None
    check_yaml(text, bounds, what=what)
    try:
        return yaml.load(text, Loader=_YAML_LOADER)
    except (yaml.YAMLError, ValueError, OverflowError) as exc:  # ValueError: bad dates, huge ints
        raise InvalidInput(f"not {what}: {str(exc).splitlines()[0]}") from None


class _NoExternal(etree.Resolver):  # type: ignore[misc]  # lxml has no type stubs
    """Answers every request for an external DTD or entity with nothing.

    libxml2 loads external parameter entities from local files even when told to resolve
    only internal entities; this resolver is asked first, so nothing is ever read.
    """

    def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
        return self.resolve_string("", context)


def plain_xml(raw: bytes, bounds: Bounds = DOCUMENT, *, what: str = "XML") -> bytes:
    """The document's root element re-serialised: entities expanded, no DTD, nothing external.

    For parsers that expand entities or nest without limit (pyoxigraph's RDF/XML), so they
    never see a DTD. libxml2 refuses entity amplification and nesting deeper than 256 on
    its own; documents declaring external entities are refused; elements are counted.

    >>> plain_xml(b'<!DOCTYPE r [<!ENTITY owl "http://www.w3.org/2002/07/owl#">]><r a="&owl;C"/>')
    b'<?xml version=\\'1.0\\' encoding=\\'UTF-8\\'?>\\n<r a="http://www.w3.org/2002/07/owl#C"/>'
    >>> plain_xml(b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r/>')
    Traceback (most recent call last):
    ...
    kg.errors.InvalidInput: XML declares an external entity
    """
    if len(raw) > bounds.max_bytes:
        raise Exceeded(f"{what} larger than {bounds.max_bytes} bytes")
    parser = etree.XMLParser(
        resolve_entities="internal",
        load_dtd=False,
        no_network=True,
        huge_tree=False,  # keeps libxml2's limits: amplification, depth 256, text sizes
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )
    parser.resolvers.add(_NoExternal())
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        if exc.code == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
            raise Exceeded(f"{what} over libxml2's limits: {exc.msg.split(',')[0]}") from None
        raise InvalidInput(f"not {what}: {exc.msg}") from None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(entity.system_url for entity in dtd.iterentities()):
        raise InvalidInput(f"{what} declares an external entity")
    depth = elements = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        if event == "end":
            depth -= 1
            continue
        depth, elements = depth + 1, elements + 1
        if depth > bounds.max_depth:
            raise Exceeded(f"{what} nested deeper than {bounds.max_depth}")
        if elements > bounds.max_nodes:
            raise Exceeded(f"{what} holds more than {bounds.max_nodes} elements")
    out: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    if len(out) > bounds.max_bytes:
        raise Exceeded(f"{what} expands to more than {bounds.max_bytes} bytes")
    return out
