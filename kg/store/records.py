"""A project's record as triples, and back: how every store describes its projects.

Each project has a small description graph (`Minter.record_graph`) that kg writes and reads
with `queries/projects.rq` and `queries/project_members.rq`, whatever the store.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from kg import iri as mint
from kg import queries
from kg.iri import Minter
from kg.queries import Rendered
from kg.rdf import iri, literal, triple
from kg.store.base import ProjectRecord
from kg.vocab import KG, RDF_TYPE, SCHEMA, XSD


def record_ntriples(record: ProjectRecord) -> str:
    """The triples of a project's description graph, as N-Triples."""
    s = iri(record.iri)

    def p(local: str, ns: str = KG) -> str:
        return iri(ns + local)

    lines = [
        triple(s, iri(RDF_TYPE), p("Project")),
        triple(s, iri(RDF_TYPE), iri(SCHEMA + "Project")),
        triple(s, p("slug"), literal(record.slug)),
        triple(s, p("name", SCHEMA), literal(record.name)),
        triple(s, p("visibility"), literal(record.visibility)),
        triple(s, p("graph"), iri(record.graph or "")),
        triple(s, p("generation"), literal(str(record.generation), XSD + "integer")),
        triple(s, p("tripleCount"), literal(str(record.triples), XSD + "integer")),
        triple(s, p("warningCount"), literal(str(record.warnings), XSD + "integer")),
    ]
    if record.gitlab_id is not None:
        lines.append(triple(s, p("gitlabId"), literal(str(record.gitlab_id), XSD + "integer")))
    if record.audience:
        lines.append(triple(s, p("audience"), iri(record.audience)))
    if record.ingested_commit:
        lines.append(triple(s, p("ingestedCommit"), literal(record.ingested_commit)))
    if record.extractor_version:
        lines.append(triple(s, p("extractorVersion"), literal(record.extractor_version)))
    if record.ingested_at:
        lines.append(triple(s, p("ingestedAt"), literal(record.ingested_at, XSD + "dateTime")))
    for user, level in record.members:
        m = iri(f"{record.iri}/-/members/{mint.path_key(user)}")
        lines += [
            triple(s, p("member"), m),
            triple(m, p("userId"), literal(user)),
            triple(m, p("accessLevel"), literal(str(level), XSD + "integer")),
        ]
    return "".join(lines)


def live_graphs(minter: Minter, projects: list[ProjectRecord]) -> set[str]:
    """The graphs readers may see: each project's live generation and description graph."""
    live = {minter.record_graph(r.iri) for r in projects}
    return live | {r.graph for r in projects if r.graph}


def from_rows(rows: list[dict[str, str]], member_rows: list[dict[str, str]]) -> list[ProjectRecord]:
    """Records from the rows of `projects.rq` and `project_members.rq` (plain values)."""
    members: dict[str, list[tuple[str, int]]] = {}
    for row in member_rows:
        members.setdefault(row["project"], []).append((row["user"], int(row.get("level") or 0)))
    out = []
    for row in rows:
        gitlab_id = row.get("gitlabId")
        project = row["project"]
        out.append(
            ProjectRecord(
                iri=project,
                slug=row["slug"],
                name=row["name"],
                visibility=row["visibility"],
                gitlab_id=int(gitlab_id) if gitlab_id is not None else None,
                ingested_commit=row.get("commit"),
                graph=row.get("graph"),
                generation=int(row.get("generation") or 0),
                extractor_version=row.get("extractor"),
                ingested_at=row.get("ingestedAt"),
                triples=int(row.get("triples") or 0),
                warnings=int(row.get("warnings") or 0),
                members=tuple(sorted(members.get(project, []))),
                audience=row.get("audience"),
            )
        )
    return out


def by_slug(records: Iterable[ProjectRecord]) -> list[ProjectRecord]:
    """Records ordered by slug."""
    return sorted(records, key=lambda r: r.slug)


def publish_update(
    minter: Minter, previous: ProjectRecord | None, record: ProjectRecord
) -> tuple[ProjectRecord, str]:
    """The record as it will read back (stamped now), and the one update that replaces its
    description graph and its copy in its audience graph."""
    record = record.evolve(
        ingested_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        members=tuple(sorted(record.members)),  # as `from_rows` reads them back
        ingested_commit=record.ingested_commit or None,
        extractor_version=record.extractor_version or None,
    )
    record_graph = Rendered(iri(minter.record_graph(record.iri)))
    ntriples = Rendered(record_ntriples(record))
    updates = []
    if previous is not None and previous.audience:
        live = previous.graph or minter.record_graph(record.iri)
        values = {"audience": Rendered(iri(previous.audience)), "recordGraph": record_graph}
        updates.append(queries.render("retract_record.ru", {**values, "liveGraph": Rendered(iri(live))}))
    updates.append(queries.render("publish_project.ru", {"recordGraph": record_graph, "record": ntriples}))
    if record.audience:
        values = {"audience": Rendered(iri(record.audience)), "record": ntriples}
        updates.append(queries.render("merge_record.ru", values))
    return record, " ;\n".join(updates)
