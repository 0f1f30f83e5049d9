"""The bodies of renku-graph's project edit and creation requests: JSON or multipart forms.

A multipart body is read with the standard library's MIME parser from bytes already read
within a bound (`kg.api.limits.read_body`); nothing is written to disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs

from kg.access import VISIBILITIES
from kg.bounded import Bounds, loads_json
from kg.errors import BodyTooLarge, InvalidInput

MAX_KEYWORDS = 100
MAX_TEXT = 20_000
Image = tuple[str, bytes, str]

_BODY = Bounds(max_bytes=2 * 1024 * 1024, max_depth=8)
"""A project form is flat: a field, or a list of keywords."""


@dataclass
class ProjectChange:
    """GitLab fields to set (description, topics, visibility) and an image to upload."""

    fields: dict[str, Any] = field(default_factory=dict)
    image: Image | None = None


@dataclass
class ProjectCreation:
    """GitLab fields of a new project and its image."""

    fields: dict[str, Any]
    image: Image | None = None


def _form(content_type: str, raw: bytes) -> tuple[dict[str, list[str]], Image | None]:
    """Text fields (each with all its values) and the `image` file of a multipart body."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        raise InvalidInput("body: not a multipart form", field="body")
    values: dict[str, list[str]] = {}
    image: Image | None = None
    for part in message.iter_parts() if hasattr(message, "iter_parts") else []:
        assert isinstance(part, Message)
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if name == "image" and filename is not None:
            image = (filename, content, part.get_content_type())
        else:
            values.setdefault(name.removesuffix("[]"), []).append(content.decode("utf-8", "replace"))
    return values, image


def _fields(content_type: str, raw: bytes) -> tuple[dict[str, Any], Image | None]:
    """The body as field → value (lists for keywords), and the image if one was sent."""
    if content_type.lower().startswith("multipart/form-data"):
        values, image = _form(content_type, raw)
        found: dict[str, Any] = {k: (v if k == "keywords" else v[-1]) for k, v in values.items()}
        return found, image
    if content_type.lower().startswith("application/x-www-form-urlencoded"):
        try:
            pairs = parse_qs(raw.decode("utf-8", "replace"), max_num_fields=MAX_KEYWORDS + 10)
        except ValueError:
            raise InvalidInput("body: too many form fields", field="body") from None
        return {
            k.removesuffix("[]"): (v if k.startswith("keywords") else v[-1]) for k, v in pairs.items()
        }, None
    try:
        body = loads_json(raw or b"{}", _BODY)
    except InvalidInput as exc:  # not JSON, or nested past any form's need
        raise InvalidInput(f"body: {exc}", field="body") from None
    if not isinstance(body, dict):
        raise InvalidInput("body: expected a JSON object", field="body")
    return body, None


def _gitlab_fields(body: dict[str, Any]) -> dict[str, Any]:
    """GitLab's names for renku-graph's fields, checked."""
    fields: dict[str, Any] = {}
    if "description" in body:
        description = body["description"]
        if description is not None and not isinstance(description, str):
            raise InvalidInput("description: expected a string or null", field="description")
        if description is not None and len(description) > MAX_TEXT:
            raise InvalidInput(f"description: longer than {MAX_TEXT} characters", field="description")
        fields["description"] = description or ""
    if "keywords" in body:
        keywords = body["keywords"]
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise InvalidInput("keywords: expected a list of strings", field="keywords")
        if len(keywords) > MAX_KEYWORDS:
            raise InvalidInput(f"keywords: more than {MAX_KEYWORDS}", field="keywords")
        fields["topics"] = [k.strip() for k in keywords if k.strip()]
    if "visibility" in body:
        if body["visibility"] not in VISIBILITIES:
            raise InvalidInput(f"visibility: one of {', '.join(VISIBILITIES)}", field="visibility")
        fields["visibility"] = body["visibility"]
    return fields


def read_change(content_type: str, raw: bytes, complete: bool) -> ProjectChange:
    """A `PATCH /knowledge-graph/projects/...` body; 400 when it changes nothing."""
    if not complete:
        raise BodyTooLarge("body too large")
    body, image = _fields(content_type, raw)
    change = ProjectChange(_gitlab_fields(body), image)
    if not change.fields and change.image is None:
        raise InvalidInput(
            "body: nothing to change (description, keywords, visibility or image)", field="body"
        )
    return change


def read_creation(content_type: str, raw: bytes, complete: bool) -> ProjectCreation:
    """A `POST /knowledge-graph/projects` body: name and namespaceId at least."""
    if not complete:
        raise BodyTooLarge("body too large")
    body, image = _fields(content_type, raw)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("name: required", field="name")
    namespace = str(body.get("namespaceId", ""))
    # ASCII digits only ("²".isdigit() is true), and no longer than GitLab's 64-bit ids
    if not (namespace.isascii() and namespace.isdigit() and len(namespace) <= 18):
        raise InvalidInput("namespaceId: a GitLab namespace id is required", field="namespaceId")
    fields = {
        "name": name.strip(),
        "namespace_id": int(namespace),
        "visibility": "private",
        **_gitlab_fields({k: v for k, v in body.items() if k in ("description", "keywords", "visibility")}),
    }
    return ProjectCreation(fields, image)
