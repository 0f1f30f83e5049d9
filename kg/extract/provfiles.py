"""W3C PROV documents and CWLProv bags committed as files, ingested into the project graph.

RDF serializations (Turtle, N-Triples, JSON-LD, RDF/XML) are parsed by pyoxigraph;
PROV-JSON and PROV-XML by the `prov` package, which converts them to RDF. PROV-N has no
maintained reader; a PROV-N file is skipped silently when an RDF sibling carries the same
graph (as in CWLProv bags) and reported otherwise. `arcp://uuid,<id>/` IRIs (CWLProv's
research objects) are rebased under the project. Every decoder is bounded (`kg.bounded`):
PROV-XML reaches the `prov` package without its DTD, as RDF/XML reaches pyoxigraph.
"""

from __future__ import annotations

import posixpath
import re
import warnings
from typing import Any

import pyoxigraph as ox

from kg import iri as mint
from kg.bounded import Exceeded, loads_json, plain_xml
from kg.errors import InvalidInput
from kg.extract.blobs import METADATA_BYTES
from kg.extract.context import Context
from kg.extract.log import Change, Commit, is_zero
from kg.extract.rdfdoc import activities, mark_runs, names, normalize, ntriples, parse
from kg.vocab import KG, PROV

PROV_NS = b"http://www.w3.org/ns/prov#"
MAX_BYTES = METADATA_BYTES
_RDF = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
}
_OTHER = (".json", ".xml", ".provn", ".provx")
_USUALLY_DATA = (".json", ".xml")  # a large one is skipped without a warning
_ARCP = re.compile(r"^arcp://uuid,([0-9a-fA-F-]+)/(.*)$")


_HASH_IRI = re.compile(r"^urn:hash::sha1:([0-9a-f]{40})$")


def _bag_root(path: str) -> str | None:
    """The folder of the CWLProv bag a provenance file is in (`<bag>/metadata/provenance/`)."""
    if path.startswith("metadata/provenance/"):
        return ""
    head, found, _ = path.partition("/metadata/provenance/")
    return head if found else None


_SPECIALIZATION_OF = ox.NamedNode(PROV + "specializationOf")


def _payload_links(ctx: Context, commit: str, path: str, triples: list[ox.Triple]) -> list[ox.Triple]:
    """A CWLProv bag keeps the content of each `urn:hash::sha1:<x>` entity at `data/<x[:2]>/<x>`:
    the entity gets its hash (`kg:sha1`), that path and, where the commit holds the file, the
    git file version it is `prov:alternateOf` (so lineage reaches the payload). The runs use
    and generate entities (`urn:uuid:`) that are `prov:specializationOf` a hash entity: each
    gets the same links, since lineage follows a run's entities by their paths."""
    root = _bag_root(path)
    digests = {
        term.value: match.group(1)
        for t in triples
        for term in (t.subject, t.object)
        if isinstance(term, ox.NamedNode) and (match := _HASH_IRI.match(term.value))
    }
    holders = _specializations(triples, set(digests))
    links = []
    for value, digest in sorted(digests.items()):
        payload = _payload(ctx, commit, root, digest) if root is not None else None
        for entity in [ox.NamedNode(value), *holders.get(value, [])]:
            links.append(ox.Triple(entity, ox.NamedNode(KG + "sha1"), ox.Literal(digest)))
            if payload is not None:
                links += [
                    ox.Triple(entity, ox.NamedNode(PROV + "atLocation"), ox.Literal(payload[0])),
                    ox.Triple(entity, ox.NamedNode(PROV + "alternateOf"), ox.NamedNode(payload[1])),
                ]
    return links


def _payload(ctx: Context, commit: str, root: str, digest: str) -> tuple[str, str] | None:
    """The path of the bag's payload file of that sha1 and its git file version, if the
    commit holds it."""
    path = posixpath.join(root, "data", digest[:2], digest)
    found = ctx.blobs.info(f"{commit}:{path}")
    if found is None or found[1] != "blob":
        return None
    return path, mint.file_version(ctx.project, path, found[0])


def _specializations(triples: list[ox.Triple], general: set[str]) -> dict[str, list[ox.NamedNode]]:
    """The entities that are `prov:specializationOf` each of the `general` ones (blank nodes
    were made IRIs by `normalize`)."""
    found: dict[str, set[ox.NamedNode]] = {}
    for t in triples:
        subject, general_one = t.subject, t.object
        if (
            t.predicate == _SPECIALIZATION_OF
            and isinstance(subject, ox.NamedNode)
            and isinstance(general_one, ox.NamedNode)
            and general_one.value in general
        ):
            found.setdefault(general_one.value, set()).add(subject)
    return {key: sorted(entities, key=str) for key, entities in found.items()}


def _stem(path: str) -> str:
    return path.rsplit(".", 1)[0]


class ProvFiles:
    """The PROV / CWLProv file extractor."""

    name = "prov"

    def wants(self, path: str) -> bool:
        return path.endswith(tuple(_RDF) + _OTHER)

    def finish(self, ctx: Context) -> None:
        """Nothing spans commits."""

    def rebase(self, ctx: Context, value: str) -> str:
        match = _ARCP.match(value)
        if match:
            return ctx.iri("cwlprov", match.group(1)) + "/" + match.group(2)
        return value

    def commit(self, ctx: Context, commit: Commit, changes: list[Change]) -> None:
        for ch in changes:
            if not is_zero(ch.after):
                with ctx.reading("prov", commit.sha, ch.text):
                    self._file(ctx, commit, ch)

    def _file(self, ctx: Context, commit: Commit, ch: Change) -> None:
        try:
            raw = ctx.read_change("prov", commit.sha, ch.after, ch.text, ch.mode, limit=MAX_BYTES)
        except Exceeded:
            if ch.text.endswith(_USUALLY_DATA):
                return  # far more often data than PROV
            raise
        if raw is None or not self._looks_like_prov(ch.text, raw):
            return  # not a PROV document: most .json and .ttl files are not
        triples = self._read(ctx, commit, ch.text, raw)
        if triples is None:
            return
        # An activity is recorded in the commit that first brought it: a document edited
        # in place (by any parent of a merge) names its earlier activities again.
        known = self._known(ctx, commit, ch)
        commit_iri = mint.commit(ctx.project, commit.sha)
        tool = "cwlprov" if "cwlprov" in ch.text else "prov"
        extra = mark_runs(triples, tool, commit_iri, known) + _payload_links(
            ctx, commit.sha, ch.text, triples
        )
        ctx.emit(ntriples(triples + names(triples) + extra))

    def _known(self, ctx: Context, commit: Commit, ch: Change) -> set[Any]:
        """The activities of the document's versions before this commit (warnings about them
        were given when their own commits were read)."""
        old_path = ch.source.decode("utf-8", "replace") if ch.source is not None else ch.text
        known: set[Any] = set()
        for blob in ch.before:
            if is_zero(blob):
                continue
            quiet = Context(ctx.minter, ctx.project, ctx.repo, ctx.out, ctx.blobs)
            try:
                raw = ctx.blobs.read(blob, limit=MAX_BYTES)
                if raw is not None and self._looks_like_prov(old_path, raw):
                    known |= activities(self._read(quiet, commit, old_path, raw) or [])
            except (Exceeded, InvalidInput):
                continue
        return known

    @staticmethod
    def _looks_like_prov(path: str, raw: bytes) -> bool:
        head = raw[:MAX_BYTES]
        if path.endswith(".json"):  # PROV-JSON names the namespace only by its prefix
            return b'"activity"' in head or b'"entity"' in head
        return PROV_NS in head or head.lstrip().startswith(b"document")

    def _has_rdf_sibling(self, ctx: Context, commit: str, path: str) -> bool:
        return any(ctx.blobs.info(f"{commit}:{_stem(path)}{ext}") is not None for ext in _RDF)

    def _read(self, ctx: Context, commit: Commit, path: str, raw: bytes) -> list[ox.Triple] | None:
        ext = posixpath.splitext(path)[1].lower()
        # Siblings (the serializations of one CWLProv graph) resolve relative IRIs alike.
        base = ctx.iri("prov", posixpath.dirname(path) or ".") + "/"
        genid = ctx.iri("prov", "genid")
        try:
            if ext in _RDF:
                dataset = parse(raw, _RDF[ext], base)
            else:
                if self._has_rdf_sibling(ctx, commit.sha, path):
                    return None  # the same graph is read from the RDF sibling
                if ext == ".provn" or raw.lstrip().startswith(b"document"):
                    ctx.warn(
                        "prov",
                        "PROV-N cannot be read (no maintained parser); "
                        "commit an RDF or PROV-JSON serialization",
                        commit.sha,
                        path,
                    )
                    return None
                converted = self._prov_package(raw, "xml" if ext in (".xml", ".provx") else "json")
                if converted is None:
                    return None
                dataset = parse(converted, ox.RdfFormat.N_TRIPLES, base)
        except (SyntaxError, ValueError) as exc:
            ctx.warn("prov", f"unreadable PROV document: {str(exc).splitlines()[0]}", commit.sha, path)
            return None
        return normalize(ctx, dataset, genid, lambda iri: self.rebase(ctx, iri))

    def _prov_package(self, raw: bytes, fmt: str) -> bytes | None:
        """PROV-JSON or PROV-XML as N-Triples, through the `prov` package (which parses
        XML with lxml's defaults: it gets the document without its DTD)."""
        if fmt == "json":
            data: Any = loads_json(raw, what="PROV-JSON")
            if not isinstance(data, dict) or not {"entity", "activity", "agent"} & set(data):
                return None  # JSON that mentions PROV but is not PROV-JSON
        else:
            raw = plain_xml(raw, what="PROV-XML")
        from prov.model import ProvDocument

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                document = ProvDocument.deserialize(content=raw.decode("utf-8"), format=fmt)
                text = document.serialize(format="rdf", rdf_format="nt")
        except Exception as exc:  # the prov package raises many kinds on bad input
            raise ValueError(f"{fmt.upper()} PROV: {type(exc).__name__}") from exc
        if text is None:
            raise ValueError(f"{fmt.upper()} PROV: conversion to RDF gave nothing")
        return text.encode() if isinstance(text, str) else bytes(text)
