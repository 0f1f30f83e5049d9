"""Typed response bodies of renku-graph's routes, with examples, for `/spec.json`.

Models describe what the UI reads; routes that build richer dictionaries keep extra fields
(`extra="allow"`), since renku-graph's clients ignore what they do not know.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class InfoMessage(BaseModel):
    """renku-graph's answer to an accepted change."""

    model_config = ConfigDict(
        json_schema_extra={"example": {"message": "Project update accepted", "severity": "Info"}}
    )

    message: str
    severity: Literal["Info", "Warning", "Error"] = "Info"


class ProjectCreated(BaseModel):
    """The answer to `POST /knowledge-graph/projects`."""

    model_config = ConfigDict(
        json_schema_extra={"example": {"message": "Project created", "slug": "group/name"}}
    )

    message: str
    slug: str = Field(description="The new project's path with namespace.")


class Link(BaseModel):
    """A HAL-style link."""

    rel: str
    href: str


class Image(BaseModel):
    """An image of a project or dataset."""

    model_config = ConfigDict(extra="allow")
    location: str


class _Open(BaseModel):
    """renku-graph's bodies: what is unknown is omitted; kg may add fields."""

    model_config = ConfigDict(extra="allow")


class SearchHit(_Open):
    """One `GET /knowledge-graph/entities` item (a project, dataset, workflow or person)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "type": "project",
                "matchingScore": 1.0,
                "name": "rainfall",
                "slug": "climate/rainfall",
                "path": "climate/rainfall",
                "namespace": "climate",
                "namespaces": [{"rel": "climate", "namespace": "climate"}],
                "visibility": "public",
                "date": "2024-05-01T12:00:00Z",
                "dateModified": "2024-06-01T08:00:00Z",
                "creator": "Ada Lovelace",
                "keywords": ["weather"],
                "images": [],
                "_links": [
                    {"rel": "details", "href": "https://kg.example/knowledge-graph/projects/climate/rainfall"}
                ],
            }
        },
    )
    type: Literal["project", "dataset", "workflow", "person"]
    matchingScore: float
    name: str
    visibility: str | None = None
    description: str | None = None
    keywords: list[str] | None = None
    date: str | None = None
    images: list[Image] | None = None
    links: list[Link] = Field(default_factory=list, alias="_links")


class Creator(_Open):
    """A dataset's creator, in the metadata's order."""

    name: str
    email: str | None = None
    affiliation: str | None = None


class DatasetDetails(_Open):
    """`GET /knowledge-graph/datasets/{id}`."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "identifier": "007ef1594b784913",
                "versions": {"initial": "794d83058337452a"},
                "tags": {"initial": {"name": "v1.0", "description": "first release"}},
                "name": "Barro",
                "slug": "barro",
                "url": "https://renku.example/datasets/007ef1594b784913",
                "derivedFrom": "https://renku.example/datasets/794d83058337452a",
                "created": "2021-06-04T04:20:24Z",
                "published": {
                    "datePublished": "2008-01-01T00:00:00Z",
                    "creator": [{"name": "Ada Lovelace", "email": "ada@example.org", "affiliation": "ETH"}],
                },
                "keywords": ["CPI"],
                "hasPart": [{"atLocation": "data/barro/barro-data-set.csv"}],
                "images": [],
                "_links": [
                    {"rel": "self", "href": "https://kg.example/knowledge-graph/datasets/007ef1594b784913"}
                ],
            }
        },
    )
    identifier: str
    versions: dict[str, str]
    name: str
    slug: str
    url: str | None = None
    sameAs: str | None = None
    derivedFrom: str | None = None
    created: str | None = None
    published: dict[str, Any] = Field(default_factory=dict)
    hasPart: list[dict[str, str]] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list, alias="_links")


class ProjectDetails(_Open):
    """`GET /knowledge-graph/projects/{path}` (JSON)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "identifier": 11,
                "path": "climate/rainfall",
                "slug": "climate/rainfall",
                "name": "rainfall",
                "description": "Rain, measured",
                "visibility": "public",
                "created": {"dateCreated": "2021-06-01T15:01:56Z", "creator": {"name": "Ada Lovelace"}},
                "dateModified": "2024-06-01T08:00:00Z",
                "urls": {
                    "ssh": "git@gitlab.example:climate/rainfall.git",
                    "http": "https://gitlab.example/climate/rainfall.git",
                    "web": "https://gitlab.example/climate/rainfall",
                    "readme": "https://gitlab.example/climate/rainfall/-/blob/main/README.md",
                },
                "forking": {"forksCount": 1},
                "keywords": ["weather"],
                "starsCount": 3,
                "permissions": {"projectAccess": {"level": {"name": "Maintainer", "value": 40}}},
                "statistics": {
                    "commitsCount": 4,
                    "storageSize": 2048,
                    "repositorySize": 1024,
                    "lfsObjectsSize": 0,
                    "jobArtifactsSize": 0,
                },
                "version": "10",
                "images": [],
                "_links": [
                    {"rel": "self", "href": "https://kg.example/knowledge-graph/projects/climate/rainfall"}
                ],
            }
        },
    )
    path: str
    slug: str
    name: str
    visibility: str
    created: dict[str, Any] = Field(default_factory=dict)
    keywords: list[str] = Field(default_factory=list)
    images: list[Image] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list, alias="_links")


class LineageNode(BaseModel):
    """A file, folder or run of a lineage graph."""

    id: str
    location: str
    label: str = Field(description="a run: its command line as run; a file: `path@<short commit>`")
    type: Literal["File", "Directory", "ProcessRun"]
    project: str | None = Field(None, description="kg: the project of a node from another project")
    commit: str | None = Field(None, description="kg: the commit that recorded a run or wrote a version")
    time: str | None = Field(None, description="kg: a run's start (ISO 8601), else its commit's time")
    agent: str | None = Field(None, description="kg: who ran a run (its person, else its commit's author)")
    tool: str | None = Field(None, description="kg: what recorded a run (dvc, datalad, renku, cwl, ...)")


class LineageEdge(BaseModel):
    """An input of a run (file → run) or an output (run → file)."""

    source: str
    target: str


class Lineage(BaseModel):
    """renku-graph's lineage: edges and nodes at the top level."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "edges": [
                    {"source": "data/raw.csv", "target": "https://kg.local/projects/g/p/-/runs/dvc/1a2b"},
                    {"source": "https://kg.local/projects/g/p/-/runs/dvc/1a2b", "target": "data/clean.csv"},
                ],
                "nodes": [
                    {
                        "id": "data/raw.csv",
                        "location": "data/raw.csv",
                        "label": "data/raw.csv@0f1e2d3",
                        "type": "File",
                    },
                    {
                        "id": "https://kg.local/projects/g/p/-/runs/dvc/1a2b",
                        "location": "https://kg.local/projects/g/p/-/runs/dvc/1a2b",
                        "label": "python clean.py data/raw.csv data/clean.csv",
                        "type": "ProcessRun",
                    },
                    {
                        "id": "data/clean.csv",
                        "location": "data/clean.csv",
                        "label": "data/clean.csv@4c5b6a7",
                        "type": "File",
                    },
                ],
            }
        }
    )

    edges: list[LineageEdge]
    nodes: list[LineageNode]


class FileHistory(BaseModel):
    """kg: the commits and runs that wrote, read or deleted a file, newest first."""

    path: str
    project: str
    history: list[dict[str, str]]


class SearchEnvelope(BaseModel):
    """kg: `?envelope=true` wraps the hits with their facet counts."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "items": [],  # hits as `SearchHit` shows
                "facets": {
                    "type": {"project": 1, "dataset": 2},
                    "visibility": {"public": 3},
                    "namespace": {"climate": 3},
                    "creator": {"Ada Lovelace": 2, "Grace Hopper": 1},
                },
            }
        }
    )

    items: list[SearchHit]
    facets: dict[str, dict[str, int]] = Field(
        description="Hits per value of `type`, `visibility`, `namespace` and `creator` (creator"
        " names; the 50 largest counts, largest first, ties by name), each over every hit the"
        " other filters keep, ignoring its own filter; a document counts once per value."
    )
