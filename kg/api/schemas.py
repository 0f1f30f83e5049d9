"""Typed response bodies of renku-graph's routes, with examples, for `/spec.json`.

Models describe what the UI reads; routes that build richer dictionaries keep extra fields
(`extra="allow"`), since renku-graph's clients ignore what they do not know.
"""

from __future__ import annotations

from typing import Literal

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
