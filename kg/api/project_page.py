"""The body of `GET /knowledge-graph/projects/{path}`, in renku-graph's shapes (JSON and JSON-LD).

What the repository says comes first; GitLab's own account (when kg knows GitLab) adds the
urls, stars, forks and statistics, and its description, topics and avatar where the
repository has none. Unknown fields are omitted, never null.
"""

from __future__ import annotations

from typing import Any

from kg.access import ACCESS_LEVELS, Access
from kg.api.session_specs import session_link
from kg.search import Document
from kg.search.base import ProjectEntry

SCHEMA = "http://schema.org/"
RENKU = "https://swissdatasciencecenter.github.io/renku-ontology#"


def access_level(level: int) -> dict[str, Any]:
    """GitLab's access level as renku-graph shows it: its GitLab name and value."""
    known = max((v for v in ACCESS_LEVELS if v <= level), default=10)
    return {"name": ACCESS_LEVELS[known], "value": level}


def _statistics(gitlab: dict[str, Any]) -> dict[str, int] | None:
    stats = gitlab.get("statistics")
    if not isinstance(stats, dict):
        return None
    names = {
        "commitsCount": "commit_count",
        "storageSize": "storage_size",
        "repositorySize": "repository_size",
        "lfsObjectsSize": "lfs_objects_size",
        "jobArtifactsSize": "job_artifacts_size",
    }
    return {ours: int(stats.get(theirs) or 0) for ours, theirs in names.items()}


def _urls(gitlab: dict[str, Any]) -> dict[str, str] | None:
    names = {"ssh": "ssh_url_to_repo", "http": "http_url_to_repo", "web": "web_url", "readme": "readme_url"}
    found = {ours: str(gitlab[theirs]) for ours, theirs in names.items() if gitlab.get(theirs)}
    return found or None


def _omit_empty(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None and v != "" and v != {}}


def project_body(
    entry: ProjectEntry, doc: Document | None, gitlab: dict[str, Any], base: str, access: Access
) -> dict[str, Any]:
    """The project's page as renku-graph's JSON."""
    name = entry.slug.rsplit("/", 1)[-1]
    level = entry.members.get(access.user or "")
    description = (doc.description if doc else "") or str(gitlab.get("description") or "")
    keywords = (doc.keywords if doc else []) or [str(t) for t in gitlab.get("topics") or []]
    images = list(doc.extra.get("images", [])) if doc else []
    if not images and gitlab.get("avatar_url"):
        images = [str(gitlab["avatar_url"])]
    creator = {"name": doc.creators[0]} if doc and doc.creators else None
    forks = gitlab.get("forks_count")
    commit = str(doc.extra.get("commit") or "") if doc else ""
    return _omit_empty(
        {
            "identifier": entry.gitlab_id or gitlab.get("id"),
            "path": entry.slug,
            "slug": entry.slug,
            "name": doc.name if doc else name,
            "description": description,
            "visibility": entry.visibility,
            "created": _omit_empty(
                {"dateCreated": doc.created if doc else gitlab.get("created_at"), "creator": creator}
            ),
            "dateModified": doc.modified if doc else None,
            "urls": _urls(gitlab),
            "forking": {"forksCount": int(forks or 0)},
            "keywords": keywords,
            "starsCount": int(gitlab.get("star_count") or 0),
            "permissions": {"projectAccess": {"level": access_level(level)}} if level else {},
            "statistics": _statistics(gitlab),
            "version": doc.extra.get("version") if doc else None,
            "images": [{"location": url, "_links": [{"rel": "view", "href": url}]} for url in images],
            "_links": [
                {"rel": "self", "href": f"{base}/knowledge-graph/projects/{entry.slug}"},
                {"rel": "datasets", "href": f"{base}/knowledge-graph/projects/{entry.slug}/datasets"},
            ],
            # kg: open the project in an interactive session at the commit shown
            "session": session_link(entry.slug, commit) if commit else None,
        }
    )


def _value(value: Any, datatype: str | None = None) -> dict[str, Any] | None:
    """A JSON-LD value object (expanded form, as renku-graph's encoder writes it)."""
    if value is None or value == "":
        return None
    return {"@value": value} if datatype is None else {"@type": datatype, "@value": value}


def project_jsonld(entry: ProjectEntry, body: dict[str, Any]) -> dict[str, Any]:
    """The project's page as renku-graph's JSON-LD: expanded, schema.org and Renku terms."""
    created = body.get("created", {})
    when = "http://www.w3.org/2001/XMLSchema#dateTime"
    node: dict[str, Any] = {
        "@id": entry.iri,
        "@type": [f"{SCHEMA}Project", "http://www.w3.org/ns/prov#Location"],
        f"{SCHEMA}identifier": _value(body.get("identifier")),
        f"{RENKU}projectPath": _value(entry.slug),
        f"{RENKU}slug": _value(entry.slug),
        f"{SCHEMA}name": _value(body["name"]),
        f"{SCHEMA}description": _value(body.get("description")),
        f"{RENKU}projectVisibility": _value(entry.visibility),
        f"{SCHEMA}dateCreated": _value(created.get("dateCreated"), when),
        f"{SCHEMA}dateModified": _value(body.get("dateModified"), when),
        f"{SCHEMA}keywords": [{"@value": k} for k in body.get("keywords", [])] or None,
        f"{SCHEMA}schemaVersion": _value(body.get("version")),
    }
    if created.get("creator"):
        node[f"{SCHEMA}creator"] = {
            "@type": [f"{SCHEMA}Person", "http://www.w3.org/ns/prov#Person"],
            f"{SCHEMA}name": _value(created["creator"]["name"]),
        }
    if body.get("images"):
        node[f"{SCHEMA}image"] = [
            {
                "@type": [f"{SCHEMA}ImageObject"],
                f"{SCHEMA}contentUrl": _value(image["location"]),
                f"{SCHEMA}position": _value(n),
            }
            for n, image in enumerate(body["images"])
        ]
    return {k: v for k, v in node.items() if v is not None}
