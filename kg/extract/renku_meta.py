"""Renku >= 1.0: the project object, and the people and images projects, datasets and plans name.

A Renku person's id is an identifier (`mailto:…`, an ORCID URL, `/persons/…`), not an
address: only the `email` field or a `mailto:` id is an e-mail. The order of a dataset's
`creators` is the order its authors were given in, which schema:creator (a set) loses, so
each creator's place is written as `kg:creatorPosition [ schema:item <person> ;
schema:position N ]`, N counting from 1.
"""

from __future__ import annotations

from typing import Any

from kg.extract.context import Context
from kg.extract.runs import A, Agent, agent_term, p
from kg.rdf import iri, literal, triple
from kg.vocab import XSD

_INT = XSD + "integer"
_DT = XSD + "dateTime"


def agent(ctx: Context, value: Any) -> Agent | None:
    """A Renku `Person` or `SoftwareAgent` value as an agent (None: not one)."""
    if not isinstance(value, dict):
        return None
    if str(value.get("@type", "")).endswith("SoftwareAgent"):
        software = ctx.document_iri(str(value.get("id")))
        return Agent(str(value.get("name") or ""), software_iri=software) if software else None
    email = email_of(value)
    name = value.get("name") or email or value.get("id")
    return Agent(str(name or ""), email)


def email_of(person: dict[str, Any]) -> str:
    """The person's e-mail: the `email` field, else a `mailto:` id; never any other id.

    >>> email_of({"id": "https://orcid.org/0000-0002-1825-0097", "email": None})
    ''
    >>> email_of({"id": "mailto:ada@example.org"})
    'ada@example.org'
    """
    email = person.get("email")
    if isinstance(email, str) and email.strip():
        return email.strip().removeprefix("mailto:")
    pid = person.get("id")
    if isinstance(pid, str) and pid.startswith("mailto:"):
        return pid.removeprefix("mailto:").strip()
    return ""


def person_term(ctx: Context, value: Any, lines: list[str]) -> str | None:
    """Write a person (with the affiliation Renku gives) and return its term."""
    found = agent(ctx, value)
    if found is None:
        return None
    term = agent_term(ctx, found, lines)
    affiliation = value.get("affiliation")
    if found.software_iri is None and isinstance(affiliation, str) and affiliation.strip():
        lines.append(triple(term, p("schema:affiliation"), literal(affiliation.strip())))
    return term


def creators(ctx: Context, subject: str, people: Any, lines: list[str]) -> None:
    """schema:creator for each of `people`, and each one's place in the list."""
    position = 0
    for value in people if isinstance(people, list) else []:
        term = person_term(ctx, value, lines)
        if term is None:
            continue
        position += 1
        place = iri(f"{subject}/creators/{position}")
        lines += [
            triple(iri(subject), p("schema:creator"), term),
            triple(iri(subject), p("kg:creatorPosition"), place),
            triple(place, A, p("schema:ListItem")),
            triple(place, p("schema:item"), term),
            triple(place, p("schema:position"), literal(str(position), _INT)),
        ]


def images(subject: str, value: Any, lines: list[str]) -> None:
    """schema:image for a Renku `ImageObject` (a project's `image`) or a list of them (a
    dataset's `images`): its content URL and position (its place in the list if it has none)."""
    listed = value if isinstance(value, list) else [value]
    for index, image in enumerate(listed):
        if not isinstance(image, dict) or not isinstance(image.get("content_url"), str):
            continue
        position = image.get("position")
        if not isinstance(position, int) or isinstance(position, bool):
            position = index
        node = iri(f"{subject}/images/{index}")
        lines += [
            triple(iri(subject), p("schema:image"), node),
            triple(node, A, p("schema:ImageObject")),
            triple(node, p("schema:contentUrl"), literal(image["content_url"])),
            triple(node, p("schema:position"), literal(str(position), _INT)),
        ]


def project_lines(ctx: Context, obj: dict[str, Any]) -> list[str]:
    """The project object: description, keywords, versions, creator, image, and Renku's own
    creation date (the index dates the project by it rather than by its first commit)."""
    s = iri(ctx.project)
    lines = [triple(s, A, p("schema:Project"))]
    if obj.get("description"):
        lines.append(triple(s, p("schema:description"), literal(str(obj["description"]))))
    if obj.get("version") is not None:
        lines.append(triple(s, p("schema:schemaVersion"), literal(str(obj["version"]))))
    if obj.get("agent_version"):
        lines.append(triple(s, p("schema:agent"), literal(str(obj["agent_version"]))))
    for keyword in obj.get("keywords") or []:
        lines.append(triple(s, p("schema:keywords"), literal(str(keyword))))
    if obj.get("date_created"):
        lines.append(triple(s, p("schema:dateCreated"), literal(str(obj["date_created"]), _DT)))
    creator = person_term(ctx, obj.get("creator"), lines)
    if creator:
        lines.append(triple(s, p("schema:creator"), creator))
    images(ctx.project, obj.get("image") or obj.get("images"), lines)
    return lines
