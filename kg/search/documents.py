"""What the search index holds for one published project, read from its graph."""

from __future__ import annotations

import pyoxigraph as ox

from kg.search.base import Document, ProjectEntry, SearchIndex
from kg.store.base import NamedQueries, ProjectRecord

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


def documents(store: NamedQueries, record: ProjectRecord) -> list[Document]:
    """The project, its current datasets, its workflows and its people, as search documents."""
    graph = {"graph": ox.NamedNode(record.graph or "")}
    docs = [project_document(store, record, graph)]
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
    creators = dataset_creators(store, graph)
    for row in store.select("index_datasets.rq", graph):
        own = tags.get(row["dataset"], [])
        people = creators.get(row["dataset"], [])
        docs.append(
            Document(
                id=row["dataset"],
                kind="dataset",
                project=record.slug,
                name=row.get("name", ""),
                slug=row.get("slug", ""),
                description=row.get("description", ""),
                keywords=_split(row.get("keywords")),
                creators=[c["name"] for c in people if c.get("name")],
                paths=[p for p in _split(row.get("paths")) if not p.startswith(".renku/")][:1000],
                created=row.get("created", ""),
                modified=row.get("modified", ""),
                extra={
                    "identifier": row.get("identifier", ""),
                    "initial": row.get("initial") or _last_segment(row.get("chainStart", "")),
                    "tags": own,
                    # older versions that tags point at resolve to the current dataset
                    "versions": sorted({t["version"] for t in own}),
                    "people": people,
                    **{k: row[k] for k in ("published", "sameAs", "derivedFrom", "url") if row.get(k)},
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


def project_document(store: NamedQueries, record: ProjectRecord, graph: dict[str, ox.NamedNode]) -> Document:
    """The project's own search document: Renku's creation date, else its first commit."""
    values: dict[str, list[str]] = {}
    images: set[tuple[int, str]] = set()
    for row in store.select("index_project.rq", {**graph, "project": ox.NamedNode(record.iri)}):
        if "image" in row:  # in Renku's order
            position = row.get("imagePosition", "")
            images.add((int(position) if position.isdigit() else 0, row["image"]))
            continue
        for key, value in row.items():
            if key not in ("graph", "project") and value not in values.setdefault(key, []):
                values[key].append(value)
    dates = store.select("index_project_dates.rq", graph)
    first = dates[0] if dates else {}
    own_created = min(values.get("dateCreated", []), default="")
    # a project Renku dates after its last commit (skewed clocks) is not modified before it
    modified = max(first.get("modified", ""), own_created)
    return Document(
        id=record.iri,
        kind="project",
        project=record.slug,
        name=record.name,
        slug=record.slug,
        description=(values.get("description") or [""])[0],
        keywords=sorted(values.get("keyword", [])),
        creators=sorted(values.get("creator", []))[:1],
        created=own_created or first.get("created", ""),
        modified=modified,
        extra={
            "gitlabId": str(record.gitlab_id or ""),
            "commit": record.ingested_commit or "",
            "images": [url for _, url in sorted(images)][:10],
            "version": (values.get("version") or [""])[0],
        },
    )


def dataset_creators(store: NamedQueries, graph: dict[str, ox.NamedNode]) -> dict[str, list[dict[str, str]]]:
    """Each dataset's creators, in the metadata's order where it was kept (else by name)."""
    found: dict[str, list[dict[str, str]]] = {}
    for row in store.select("index_dataset_creators.rq", graph):
        person = {k: row[k] for k in ("name", "email", "affiliation", "position", "person") if row.get(k)}
        found.setdefault(row["dataset"], []).append(person)
    for people in found.values():
        people.sort(key=lambda c: (float(c.get("position", "inf")), c.get("name", "")))
    return found


def _last_segment(value: str) -> str:
    return value.rstrip("/").rsplit("/", 1)[-1]


def index_project(index: SearchIndex, store: NamedQueries, record: ProjectRecord) -> None:
    """Bring the index in step with a project just published to the store."""
    index.replace_project(project_entry(record), documents(store, record))
