"""Renku >= 1.0: activities, plans, composite plans, datasets (all versions), dataset tags
and the project.

Object files changed by a commit are decoded (`kg.extract.renku_db`); referenced objects
(an activity's plan, a composite plan's steps) are read from the same commit's tree. Renku's
ids are relative (`/activities/<uuid>`) and are rebased under the project
(`<project>/-/renku/activities/<uuid>`); absolute ids (agents, imports) are the object's
own words and pass `Context.document_iri`. Renku's checksums are git blob ids, so its
entities are the git file versions themselves. Renku's own terms are written alongside
PROV and schema.org, so SPARQL written for renku-graph keeps working.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any
from urllib.parse import quote

from kg.bounded import Exceeded
from kg.extract.blobs import repo_path
from kg.extract.context import Context
from kg.extract.log import Change, Commit, is_zero
from kg.extract.renku_commands import command_line
from kg.extract.renku_db import MAX_OBJECT_BYTES, CorruptObject, decode
from kg.extract.renku_meta import agent, creators, images, project_lines
from kg.extract.runs import (
    A,
    Entity,
    Plan,
    Run,
    git_entity,
    p,
    plan_lines,
    write_run,
)
from kg.rdf import iri, literal, triple
from kg.vocab import XSD

RENKU = "https://swissdatasciencecenter.github.io/renku-ontology#"
_OID = re.compile(r"^[0-9a-f]{64}$")
_BLOB = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_DT = XSD + "dateTime"
_MAX_NESTING = 32  # folders in folders a run's collection lists; deeper members are left out
# what may stay as it is in a relative id's path (percent escapes included); the rest is quoted
_ID_SAFE = "/%:@!$&'()*+,;=-._~"


def r(local: str) -> str:
    """A term in Renku's namespace."""
    return iri(RENKU + local)


class Renku:
    """The Renku (>= 1.0) object-database extractor."""

    name = "renku"

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], dict[str, Any] | None] = {}

    def wants(self, path: str) -> bool:
        if not path.startswith(".renku/metadata/"):
            return False
        name = posixpath.basename(path)
        return name == "project" or bool(_OID.match(name))

    def finish(self, ctx: Context) -> None:
        """Nothing spans commits."""

    def rebase(self, ctx: Context, renku_id: str) -> str | None:
        """Renku's relative ids under the project; absolute ones as `document_iri` allows.
        None: leave it out (noted)."""
        if renku_id.startswith("/"):
            return ctx.document_iri(f"{ctx.project}/-/renku{quote(renku_id, safe=_ID_SAFE)}")
        return ctx.document_iri(renku_id)

    def _load(self, ctx: Context, commit: str, oid: Any) -> dict[str, Any] | None:
        """A referenced object of the same commit (None if missing or unreadable: warned
        about where its own file changed)."""
        if not isinstance(oid, str) or not _OID.match(oid):
            return None
        key = (commit, oid)
        if key not in self._cache:
            try:
                path = f"{commit}:.renku/metadata/{oid[:2]}/{oid[2:4]}/{oid}"
                raw = ctx.blobs.read(path, limit=MAX_OBJECT_BYTES)
                self._cache[key] = decode(raw) if raw is not None else None
            except (CorruptObject, Exceeded):
                self._cache[key] = None
        return self._cache[key]

    def commit(self, ctx: Context, commit: Commit, changes: list[Change]) -> None:
        for ch in changes:
            if not is_zero(ch.after):
                with ctx.reading("renku", commit.sha, ch.text):
                    self._file(ctx, commit, ch)

    def _file(self, ctx: Context, commit: Commit, ch: Change) -> None:
        raw = ctx.read_change("renku", commit.sha, ch.after, ch.text, ch.mode, limit=MAX_OBJECT_BYTES)
        if raw is None:
            return
        try:
            obj = decode(raw)
        except CorruptObject as exc:
            ctx.warn("renku", f"corrupt object: {exc}", commit.sha, ch.text)
            return
        kind = str(obj.get("@type", "")).rsplit(".", 1)[-1]
        handler = {
            "Activity": self._activity,
            "Plan": self._plan,
            "CompositePlan": self._plan,
            "WorkflowFilePlan": self._plan,
            "WorkflowFileCompositePlan": self._plan,
            "Dataset": self._dataset,
            "DatasetTag": self._tag,
            "Project": self._project,
        }.get(kind)
        if handler is None:
            return
        try:
            handler(ctx, commit, obj, first=ch.status == "A")
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            ctx.warn("renku", f"unexpected {kind} object: {exc!r}", commit.sha, ch.text)

    def _entity(self, ctx: Context, value: Any) -> Entity | None:
        entity = value.get("entity") if isinstance(value, dict) else None
        return self._file_entity(ctx, entity, depth=0)

    def _file_entity(self, ctx: Context, entity: Any, *, depth: int) -> Entity | None:
        """An entity, and a collection's listed members (nested a few levels at most)."""
        if not isinstance(entity, dict) or "path" not in entity:
            return None
        path = repo_path(str(entity["path"]))
        if path is None:
            ctx.note("path outside the repository skipped", str(entity["path"]))
            return None
        checksum = entity.get("checksum")
        directory = str(entity.get("@type", "")).endswith("Collection")
        if isinstance(checksum, str) and _BLOB.match(checksum):  # it names the git blob
            e = git_entity(ctx, path, checksum)
            e.directory = directory
        else:
            e = Entity(ctx.iri("entities", "path", path), path, directory=directory)
        members = entity.get("members") if directory and depth < _MAX_NESTING else None
        for member in members if isinstance(members, list) else []:
            found = self._file_entity(ctx, member, depth=depth + 1)
            if found is not None:
                e.members.append(found)
        return e

    def _described(self, ctx: Context, subject: str, obj: dict[str, Any], lines: list[str]) -> None:
        """Keywords, creators (in order) and images, as plans and datasets carry them."""
        for keyword in obj.get("keywords") or []:
            lines.append(triple(iri(subject), p("schema:keywords"), literal(str(keyword))))
        creators(ctx, subject, obj.get("creators"), lines)
        images(subject, obj.get("images"), lines)

    def _plan_record(self, ctx: Context, obj: dict[str, Any]) -> Plan | None:
        plan_iri = self.rebase(ctx, str(obj["id"]))
        if plan_iri is None:
            return None

        def defaults(key: str) -> list[str]:
            return [
                str(x["default_value"])
                for x in obj.get(key) or []
                if isinstance(x, dict) and x.get("default_value") not in (None, "")
            ]

        derived = self.rebase(ctx, str(obj["derived_from"])) if obj.get("derived_from") else None
        return Plan(
            iri=plan_iri,
            name=str(obj.get("name") or obj["id"]),
            tool="renku",
            command=obj.get("command"),
            inputs=defaults("inputs"),
            outputs=defaults("outputs"),
            description=obj.get("description"),
            derived_from=[derived] if derived else [],
        )

    def _activity(self, ctx: Context, commit: Commit, obj: dict[str, Any], *, first: bool) -> None:
        association = obj.get("association") or {}
        plan_ref = association.get("plan") if isinstance(association, dict) else None
        plan_obj = self._load(ctx, commit.sha, plan_ref.get("@oid")) if isinstance(plan_ref, dict) else None
        plan = self._plan_record(ctx, plan_obj) if plan_obj else None
        run_iri = self.rebase(ctx, str(obj["id"]))
        if run_iri is None:
            return
        agents = [a for a in (agent(ctx, x) for x in obj.get("agents") or []) if a is not None]
        # The person first: the association's agent in PROV is the software, listed below.
        agents.sort(key=lambda a: a.software_iri is not None)
        run = Run(
            iri=run_iri,
            tool="renku",
            label=f"renku run {plan.name}" if plan else "renku run",
            started=obj.get("started_at_time"),
            ended=obj.get("ended_at_time"),
            commit=commit.sha if first else None,
            plan=plan,
            agents=agents,
            used=[e for e in map(lambda u: self._entity(ctx, u), obj.get("usages") or []) if e],
            generated=[e for e in map(lambda g: self._entity(ctx, g), obj.get("generations") or []) if e],
            command_line=command_line(plan_obj, obj.get("parameters")) if plan_obj else None,
            parameters={
                str(pv.get("parameter_id", "")).rsplit("/", 2)[-2]
                + "/"
                + str(pv.get("parameter_id", "")).rsplit("/", 1)[-1]: str(pv.get("value"))
                for pv in obj.get("parameters") or []
                if isinstance(pv, dict)
            },
        )
        write_run(ctx, run)
        s = iri(run.iri)
        lines = [triple(s, A, r("Activity"))]
        for used in run.used + run.generated:
            lines.append(triple(iri(used.iri), r("checksum"), literal(used.hashes.get("blob", ""))))
        for invalidation in obj.get("invalidations") or []:
            gone = self._entity(ctx, invalidation)
            if gone:
                lines.append(triple(iri(gone.iri), p("prov:wasInvalidatedBy"), s))
        if obj.get("invalidated_at"):
            lines.append(triple(s, p("prov:invalidatedAtTime"), literal(str(obj["invalidated_at"]), _DT)))
        if plan is not None:
            lines.append(triple(iri(plan.iri), A, r("Plan")))
            if plan.command is not None:
                lines.append(triple(iri(plan.iri), r("command"), literal(plan.command)))
        ctx.emit(lines)

    def _plan(self, ctx: Context, commit: Commit, obj: dict[str, Any], *, first: bool) -> None:
        plan = self._plan_record(ctx, obj)
        if plan is None:
            return
        s = iri(plan.iri)
        lines = plan_lines(plan) + [triple(s, A, r("Plan"))]
        if plan.command is not None:
            lines.append(triple(s, r("command"), literal(plan.command)))
        if str(obj.get("@type", "")).endswith("CompositePlan"):
            lines.append(triple(s, A, r("CompositePlan")))
            for ref in obj.get("plans") or []:
                step = self._load(ctx, commit.sha, ref.get("@oid")) if isinstance(ref, dict) else None
                step_iri = self.rebase(ctx, str(step["id"])) if step and step.get("id") else None
                if step_iri is not None:
                    lines.append(triple(s, p("schema:hasPart"), iri(step_iri)))
        removed = obj.get("date_removed") or obj.get("invalidated_at")
        if removed:
            lines.append(triple(s, p("prov:invalidatedAtTime"), literal(str(removed), _DT)))
        if obj.get("date_created"):
            lines.append(triple(s, p("schema:dateCreated"), literal(str(obj["date_created"]), _DT)))
        self._described(ctx, plan.iri, obj, lines)
        ctx.emit(lines)

    def _dataset(self, ctx: Context, commit: Commit, obj: dict[str, Any], *, first: bool) -> None:
        dataset_iri = self.rebase(ctx, str(obj["id"]))
        if dataset_iri is None:
            return
        s = iri(dataset_iri)
        # 1.x has no slug: name is the slug, title the name (Dataset._adjust_slug_and_name)
        slug = obj.get("slug") or obj.get("name")
        title = obj.get("name") if obj.get("slug") else obj.get("title") or obj.get("name")
        lines = [
            triple(s, A, p("schema:Dataset")),
            triple(s, A, p("prov:Entity")),
            triple(s, p("schema:name"), literal(str(title or slug))),
            triple(s, r("slug"), literal(str(slug))),
            triple(s, p("kg:inCommit"), iri(f"{ctx.project}/-/commits/{commit.sha}")),
        ]
        for key, term in (
            ("identifier", "schema:identifier"),
            ("description", "schema:description"),
            ("license", "schema:license"),
        ):
            if obj.get(key):
                lines.append(triple(s, p(term), literal(str(obj[key]))))
        if obj.get("initial_identifier"):
            lines.append(triple(s, r("originalIdentifier"), literal(str(obj["initial_identifier"]))))
        for key, term in (
            ("date_created", "schema:dateCreated"),
            ("date_modified", "schema:dateModified"),
            ("date_published", "schema:datePublished"),
            ("date_removed", "prov:invalidatedAtTime"),
        ):
            if obj.get(key):
                lines.append(triple(s, p(term), literal(str(obj[key]), _DT)))
        self._described(ctx, dataset_iri, obj, lines)
        for key, term in (("derived_from", "prov:wasDerivedFrom"), ("same_as", "schema:sameAs")):
            target = _url(obj.get(key))
            target_iri = self.rebase(ctx, target) if target else None
            if target_iri is not None:
                lines.append(triple(s, p(term), iri(target_iri)))
        for file in obj.get("dataset_files") or []:
            entity = self._entity(ctx, file)
            if entity is not None and entity.path.startswith(".renku/"):
                continue  # renku's own metadata (the dataset's folder) is none of its files
            file_iri = self.rebase(ctx, str(file.get("id") or entity.iri)) if entity else None
            if entity is None or file_iri is None or not isinstance(file, dict):
                continue
            f = iri(file_iri)
            e = iri(entity.iri)
            lines += [
                triple(s, p("schema:hasPart"), f),
                triple(f, A, p("schema:DigitalDocument")),
                triple(f, A, p("prov:Entity")),
                triple(f, p("prov:entity"), e),
                triple(f, p("prov:atLocation"), literal(entity.path)),
                triple(e, A, p("prov:Entity")),
                triple(e, p("prov:atLocation"), literal(entity.path)),
                triple(e, r("checksum"), literal(entity.hashes.get("blob", ""))),
            ]
            if file.get("date_removed"):
                lines.append(triple(f, p("prov:invalidatedAtTime"), literal(str(file["date_removed"]), _DT)))
            if isinstance(file.get("source"), str):
                lines.append(triple(f, r("source"), literal(file["source"])))
        ctx.emit(lines)

    def _tag(self, ctx: Context, commit: Commit, obj: dict[str, Any], *, first: bool) -> None:
        """`renku dataset tag`: a PublicationEvent about the dataset version it names."""
        dataset = _url(obj.get("dataset_id"))
        if not obj.get("id") or not obj.get("name") or not dataset:
            raise ValueError("a dataset tag needs an id, a name and a dataset_id")
        tag_iri, about = self.rebase(ctx, str(obj["id"])), self.rebase(ctx, dataset)
        if tag_iri is None or about is None:
            return
        s = iri(tag_iri)
        lines = [
            triple(s, A, p("schema:PublicationEvent")),
            triple(s, p("schema:name"), literal(str(obj["name"]))),
            triple(s, p("schema:about"), iri(about)),
            triple(s, p("kg:inCommit"), iri(f"{ctx.project}/-/commits/{commit.sha}")),
        ]
        if obj.get("description"):
            lines.append(triple(s, p("schema:description"), literal(str(obj["description"]))))
        if obj.get("date_created"):
            lines.append(triple(s, p("schema:startDate"), literal(str(obj["date_created"]), _DT)))
        ctx.emit(lines)

    def _project(self, ctx: Context, commit: Commit, obj: dict[str, Any], *, first: bool) -> None:
        ctx.emit(project_lines(ctx, obj))


def _url(value: Any) -> str | None:
    """The id a Renku `Url` value (or a plain string) points at."""
    if isinstance(value, dict):
        found = value.get("url_id") or value.get("url_str") or value.get("id")
        return str(found) if found else None
    return str(value) if value else None
