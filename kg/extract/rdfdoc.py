"""Ingesting RDF documents found in a repository (Renku 0.x metadata, PROV files, CWLProv).

The document is parsed within `kg.bounded`'s bounds, its blank nodes are canonicalized
(RDFC-1.0, or colour refinement where that would search permutations: `kg.extract.bnodes`)
and turned into IRIs named after the graph's own content, so the same graph (in any
serialization, committed again, or ingested again) always gives the same triples. Foreign
IRIs are rebased by the caller's function (which mints them under the project); the others
pass `Context.document_iri`. kg's own project record vocabulary is never taken from a
document. Qualified PROV usages and generations get their unqualified shortcuts
(`prov:used`, `prov:wasGeneratedBy`), which lineage follows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pyoxigraph as ox

from kg import queries
from kg.bounded import Exceeded, check_json, plain_xml
from kg.extract.bnodes import canonical, in_document_order
from kg.extract.context import Context
from kg.rdf import MAX_LITERAL_CHARS, cut
from kg.vocab import KG, PROV, RDF_TYPE, XSD

Rebase = Callable[[str], str]

RECORD_PREDICATES = frozenset(
    KG + local
    for local in (
        "visibility",
        "member",
        "userId",
        "accessLevel",
        "graph",
        "audience",
        "slug",
        "gitlabId",
        "generation",
        "ingestedCommit",
        "extractorVersion",
        "tripleCount",
        "warningCount",
        "ingestedAt",
    )
)
"""What kg records about a project (`kg.store.oxigraph._record_ntriples`): only kg says it."""


_KG_PROJECT = ox.NamedNode(KG + "Project")


def _speaks_for_kg(quad: ox.Quad) -> bool:
    """A triple of kg's project record vocabulary (`kg:Project` as a type included)."""
    if quad.predicate.value in RECORD_PREDICATES:
        return True
    return quad.predicate.value == RDF_TYPE and quad.object == _KG_PROJECT


def parse(data: bytes, fmt: ox.RdfFormat, base: str) -> ox.Dataset:
    """Parse a document into a dataset (raises SyntaxError on bad input, `InvalidInput` if
    over `kg.bounded`'s bounds).

    pyoxigraph overflows its stack on JSON-LD nested ~5,000 deep, expands XML entities
    without limit and is quadratic in XML nesting: JSON-LD is checked first, and RDF/XML
    reaches it re-serialised by lxml, without a DTD.
    """
    if fmt == ox.RdfFormat.JSON_LD:
        check_json(data, what="JSON-LD")
    elif fmt == ox.RdfFormat.RDF_XML:
        data = plain_xml(data, what="RDF/XML")
    try:
        quads = [ox.Quad(q.subject, q.predicate, q.object) for q in ox.parse(data, fmt, base_iri=base)]
    except MemoryError as exc:  # pyoxigraph's own bound on one token, not the process's memory
        if "buffer maximal size" not in str(exc):
            raise
        raise Exceeded("a term longer than pyoxigraph's parser takes (16 MB)") from None
    return ox.Dataset(in_document_order(quads))


def _cut(ctx: Context, t: ox.Literal) -> ox.Literal | None:
    """A literal too long for the store's N-Triples loader: text is cut, anything else
    (a number, a date) dropped."""
    if t.language:
        ctx.note("long literal cut", t.value[:40])
        return ox.Literal(cut(t.value), language=t.language)
    if t.datatype.value == XSD + "string":
        ctx.note("long literal cut", t.value[:40])
        return ox.Literal(cut(t.value))
    ctx.note("long literal dropped", t.value[:40])
    return None


def normalize(ctx: Context, dataset: ox.Dataset, genid_base: str, rebase: Rebase) -> list[ox.Triple]:
    """Triples with blank nodes made IRIs and foreign IRIs rebased, plus PROV shortcuts.

    IRIs `rebase` leaves as they are pass `ctx.document_iri` (a triple with an invalid one
    is dropped); triples of kg's project record vocabulary are dropped; both are noted.
    """
    dataset = canonical(dataset)
    content = "".join(sorted(str(q) + "\n" for q in dataset)).encode()
    genid = f"{genid_base}/{hashlib.sha1(content).hexdigest()[:16]}/"
    iris: dict[str, ox.NamedNode | None] = {}  # each IRI checked once

    def term(t: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> ox.NamedNode | ox.Literal | None:
        if isinstance(t, ox.BlankNode):
            return ox.NamedNode(genid + t.value)
        if isinstance(t, ox.NamedNode):
            if t.value not in iris:
                rebased = rebase(t.value)
                checked = ctx.document_iri(t.value) if rebased == t.value else rebased
                iris[t.value] = None if checked is None else ox.NamedNode(checked)
            return iris[t.value]
        if isinstance(t, ox.Literal):
            return t if len(t.value) <= MAX_LITERAL_CHARS else _cut(ctx, t)
        raise ValueError("RDF-star triples are not supported")

    kept = []
    for q in dataset:
        if _speaks_for_kg(q):
            said = f"{q.predicate.value.removeprefix(KG)} of {q.subject}"
            ctx.note("kg's project record vocabulary dropped", said)
            continue
        s, p, o = term(q.subject), term(q.predicate), term(q.object)
        if s is not None and p is not None and o is not None:
            kept.append(ox.Quad(s, p, o))  # type: ignore[arg-type]
    store = ox.Store()
    store.extend(kept)
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in store]
    shortcuts = store.query(queries.load("prov_shortcuts.rq"))
    assert isinstance(shortcuts, ox.QueryTriples)
    return triples + list(shortcuts)


def ntriples(triples: list[ox.Triple]) -> list[str]:
    """N-Triples lines (pyoxigraph escapes terms)."""
    return [f"{t.subject} {t.predicate} {t.object} .\n" for t in triples]


_NAMES = (
    "http://schema.org/name",
    "http://xmlns.com/foaf/0.1/name",
    "http://www.w3.org/2000/01/rdf-schema#label",
    PROV + "label",
)


def _tail(iri: str) -> str:
    return iri.rsplit("#", 1)[-1] if "#" in iri else iri.rstrip("/").rsplit("/", 1)[-1]


def names(triples: list[ox.Triple]) -> list[ox.Triple]:
    """A name for people and plans that have none of their own (foaf:name, a label, the IRI)."""
    labels: dict[ox.NamedNode | ox.BlankNode | ox.Triple, str] = {}
    typed: dict[ox.NamedNode | ox.BlankNode | ox.Triple, set[str]] = {}
    for t in triples:
        if t.predicate.value in _NAMES and isinstance(t.object, ox.Literal):
            labels.setdefault(t.subject, t.object.value)
        if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode):
            typed.setdefault(t.subject, set()).add(t.object.value)
    named = {t.subject for t in triples if t.predicate.value == _NAMES[0]}
    extra = []
    for subject, kinds in typed.items():
        if "http://schema.org/Person" in kinds and subject not in named:
            text = labels.get(subject) or _tail(str(subject).strip("<>"))
            extra.append(ox.Triple(subject, ox.NamedNode(_NAMES[0]), ox.Literal(text)))
        elif PROV + "Plan" in kinds and subject not in labels:
            text = _tail(str(subject).strip("<>"))
            extra.append(ox.Triple(subject, ox.NamedNode(_NAMES[2]), ox.Literal(text)))
    return extra


def activities(triples: list[ox.Triple]) -> set[ox.NamedNode | ox.BlankNode | ox.Triple]:
    """The document's `prov:Activity` subjects."""
    return {
        t.subject
        for t in triples
        if t.predicate.value == RDF_TYPE
        and isinstance(t.object, ox.NamedNode)
        and t.object.value == PROV + "Activity"
    }


def mark_runs(
    triples: list[ox.Triple],
    tool: str,
    commit_iri: str | None,
    known: set[ox.NamedNode | ox.BlankNode | ox.Triple] | None = None,
) -> list[ox.Triple]:
    """Type the document's activities as kg runs of `tool`; those not `known` (from the
    document's version before) are recorded in `commit_iri`."""
    extra = []
    for activity in sorted(activities(triples), key=str):
        extra += [
            ox.Triple(activity, ox.NamedNode(RDF_TYPE), ox.NamedNode(KG + "Run")),
            ox.Triple(activity, ox.NamedNode(KG + "tool"), ox.Literal(tool)),
        ]
        if commit_iri and (known is None or activity not in known):
            extra.append(ox.Triple(activity, ox.NamedNode(KG + "inCommit"), ox.NamedNode(commit_iri)))
    return extra
