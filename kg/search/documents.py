"""What the search index holds for one published project, read from its graph."""

from __future__ import annotations

import pyoxigraph as ox

from kg.search.base import Document, ProjectEntry, SearchIndex
from kg.store import ProjectRecord, Store

_SEP = "\x1f"


def _split(value: str | None) -> list[str]:
    return [v for v in (value or "").split(_SEP) if v]


def project_entry(record: ProjectRecord) -> ProjectEntry:
    """The access entry of a published project."""
    visibility = record.visibility if record.visibility in ("public", "internal", "private") else "private"
    return ProjectEntry(
        record.slug,
        record.iri,
        record.graph or "",
        visibility,  # type: ignore[arg-type]
        dict(record.members),
        record.gitlab_id,
    )


def documents(store: Store, record: ProjectRecord) -> list[Document]:
    """The project, its current datasets, its workflows and its people, as search documents."""
    graph = {"graph": ox.NamedNode(record.graph or "")}
    project = store.select("index_project.rq", {**graph, "project": ox.NamedNode(record.iri)})
    info = project[0] if project else {}
    docs = [
        Document(
            id=record.iri,
            kind="project",
            project=record.slug,
            name=record.name,
            slug=record.slug,
            description=info.get("description", ""),
            keywords=_split(info.get("keywords")),
            creators=[info["creator"]] if info.get("creator") else [],
            created=info.get("created", ""),
            modified=info.get("modified", ""),
            extra={"gitlabId": str(record.gitlab_id or ""), "commit": record.ingested_commit or ""},
        )
    ]
    tags: dict[str, list[dict[str, str]]] = {}
    for row in store.select("index_dataset_tags.rq", graph):
        tags.setdefault(row["dataset"], []).append(
            {
                "name": row["name"],
                "description": row.get("description", ""),
                "date": row.get("date", ""),
                "version": row.get("versionId") or row["version"].rsplit("/", 1)[-1],
            }
        )
    for row in store.select("index_datasets.rq", graph):
        own = tags.get(row["dataset"], [])
        docs.append(
            Document(
                id=row["dataset"],
                kind="dataset",
                project=record.slug,
                name=row.get("name", ""),
                slug=row.get("slug", ""),
                description=row.get("description", ""),
                keywords=_split(row.get("keywords")),
                creators=_split(row.get("creators")),
                paths=_split(row.get("paths"))[:1000],
                created=row.get("created", ""),
                modified=row.get("modified", ""),
                extra={
                    "identifier": row.get("identifier", ""),
                    "initial": row.get("initial", ""),
                    "tags": own,
                    # older versions that tags point at resolve to the current dataset
                    "versions": sorted({t["version"] for t in own}),
                },
            )
        )
    for row in store.select("index_workflows.rq", graph):
        docs.append(
            Document(
                id=row["plan"],
                kind="workflow",
                project=record.slug,
                name=row.get("name", ""),
                description=row.get("description") or row.get("command", ""),
                keywords=_split(row.get("keywords")),
                paths=_split(row.get("paths"))[:200],
                created=row.get("created", ""),
                modified=row.get("modified", ""),
                extra={"tool": row.get("tool", ""), "command": row.get("command", "")},
            )
        )
    for row in store.select("index_persons.rq", graph):
        docs.append(
            Document(
                id=row["person"],
                kind="person",
                project=record.slug,
                name=row.get("name", ""),
                extra={"email": row.get("email", "")},
            )
        )
    return docs


def index_project(index: SearchIndex, store: Store, record: ProjectRecord) -> None:
    """Bring the index in step with a project just published to the store."""
    index.replace_project(project_entry(record), documents(store, record))
