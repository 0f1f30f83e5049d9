"""kg.bounded: every decoder refuses input over its bounds before building it, and still
reads what is within them."""

from __future__ import annotations

import datetime
import lzma
import time
from pathlib import Path

import pytest
import zstandard

from kg.bounded import (
    DOCUMENT,
    Bounds,
    Exceeded,
    check_json,
    check_yaml,
    decompress_xz,
    decompress_zstd,
    loads_yaml,
    plain_xml,
)
from kg.errors import InvalidInput
from tests.fixtures.bombs import (
    GIB,
    deep_jsonld,
    renku_zstd_bomb,
    xml_laughs,
    xz_bomb,
    xz_single_stream_bomb,
    yaml_laughs,
    zstd_bomb,
)

CAP = f"more than {DOCUMENT.max_bytes} bytes"


def test_zstd_output_is_capped_whatever_the_header_claims() -> None:
    bomb = renku_zstd_bomb()
    assert zstandard.frame_content_size(bomb) == 4 * GIB and len(bomb) < 200_000
    started = time.monotonic()
    with pytest.raises(Exceeded, match=CAP):
        decompress_zstd(bomb)
    assert time.monotonic() - started < 5
    small = zstd_bomb(b"[", b"1", b"]", 300_000)
    assert decompress_zstd(small) == b"[" + b"1" * 299_998 + b"]"


def test_zstd_truncated_or_garbage_is_invalid_not_empty() -> None:
    whole = zstandard.ZstdCompressor().compress(bytes(range(256)) * 100)
    with pytest.raises(InvalidInput, match="truncated"):
        decompress_zstd(whole[: len(whole) // 2])
    with pytest.raises(InvalidInput, match="not zstd data"):
        decompress_zstd(b"\x28\xb5\x2f\xfd" + b"\xff" * 20)


def test_xz_output_is_capped_across_and_within_streams() -> None:
    for bomb in (xz_bomb(), xz_single_stream_bomb()):
        with pytest.raises(Exceeded, match=CAP):
            decompress_xz(bomb)
    assert decompress_xz(lzma.compress(b"a") + lzma.compress(b"b") + b"junk") == b"ab"
    with pytest.raises(InvalidInput, match="truncated"):
        decompress_xz(lzma.compress(b"x" * 1000)[:-8])


def test_billion_laughs_yaml_is_refused_in_milliseconds() -> None:
    started = time.monotonic()
    with pytest.raises(Exceeded, match="expands to more than 2000000 values"):
        loads_yaml(yaml_laughs())
    assert time.monotonic() - started < 1
    # the same shape, small enough, loads with the aliases shared
    data = loads_yaml(yaml_laughs(levels=3))
    assert len(data["stages"]["train"]["params"]["params.yaml"]["lr"]) == 10
    assert data["l1"][0] is data["l0"]


@pytest.mark.parametrize(
    ("text", "bounds", "refusal"),
    [
        ("[" * 100_000 + "]" * 100_000, DOCUMENT, "nested deeper than 128"),  # libyaml's composer would crash
        ("- " * 200 + "x", DOCUMENT, "nested deeper than 128"),
        ("a: &a [1, *a]", DOCUMENT, "without end"),
        ("a: &a {k: v}\nb: {<<: *a, c: [*a, *a]}", Bounds(max_nodes=10), "more than 10 values"),
        ("a: &x [[[1]]]\nb: [*x]", Bounds(max_depth=4), "nested deeper than 4"),
        ("s: &s " + "x" * 1000 + "\nl: [" + "*s, " * 100 + "]", Bounds(max_bytes=50_000), "50000 characters"),
    ],
)
def test_yaml_depth_and_expansion(text: str, bounds: Bounds, refusal: str) -> None:
    with pytest.raises(Exceeded, match=refusal):
        check_yaml(text, bounds)


def test_yaml_errors_are_invalid_input() -> None:
    for bad in (b"a: [", b"a: *nowhere", b"\xff\xfe", b"n: " + b"9" * 5000, b"d: 2020-13-45"):
        with pytest.raises(InvalidInput, match="not YAML"):
            loads_yaml(bad)
    assert loads_yaml(b"when: 2020-01-02\nn: 3") == {"when": datetime.date(2020, 1, 2), "n": 3}


def test_billion_laughs_xml_is_refused_by_libxml2() -> None:
    started = time.monotonic()
    with pytest.raises(Exceeded, match="amplification"):
        plain_xml(xml_laughs())
    assert time.monotonic() - started < 1


def test_xml_depth_elements_and_external_entities() -> None:
    with pytest.raises(Exceeded, match="libxml2's limits: Excessive depth"):
        plain_xml(b"<a>" * 40_000 + b"</a>" * 40_000)
    with pytest.raises(Exceeded, match="nested deeper than 128"):
        plain_xml(b"<a>" * 200 + b"</a>" * 200)
    with pytest.raises(Exceeded, match="more than 100 elements"):
        plain_xml(b"<r>" + b"<a/>" * 100 + b"</r>", Bounds(max_nodes=100))
    with pytest.raises(InvalidInput, match="external entity"):
        plain_xml(b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/hostname">]><r>x</r>')


def test_xml_never_reads_local_files(tmp_path: Path) -> None:
    """libxml2 loads external parameter entities even in "internal" mode: never here."""
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak "SECRET">')
    doc = f'<!DOCTYPE r [<!ENTITY % p SYSTEM "file://{dtd}"> %p;]><r>&leak;</r>'.encode()
    with pytest.raises(InvalidInput) as refused:
        plain_xml(doc)
    assert "SECRET" not in str(refused.value)
    outside = f'<!DOCTYPE r SYSTEM "file://{dtd}"><r>x</r>'.encode()
    assert b"SECRET" not in plain_xml(outside)


def test_xml_namespace_entities_as_protege_writes_them() -> None:
    owl = b"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
    <!ENTITY owl "http://www.w3.org/2002/07/owl#" >
    <!ENTITY rdf "http://www.w3.org/1999/02/22-rdf-syntax-ns#" >
]>
<rdf:RDF xmlns:rdf="&rdf;" xmlns:owl="&owl;"><!-- a comment -->
    <owl:Class rdf:about="&owl;Thing"/>
</rdf:RDF>"""
    out = plain_xml(owl)
    assert b"DOCTYPE" not in out and b"&owl;" not in out
    assert b'rdf:about="http://www.w3.org/2002/07/owl#Thing"' in out


def test_json_nested_ten_thousand_deep_is_refused_on_the_bytes() -> None:
    with pytest.raises(Exceeded, match="nested deeper than 128"):
        check_json(deep_jsonld())
