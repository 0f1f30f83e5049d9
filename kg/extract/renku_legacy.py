"""Renku 0.x: `.renku/metadata.yml`, `.renku/datasets/*/metadata.yml`, `.renku/workflow/*.yaml`
(JSON-LD in YAML, 0.11-0.16) and `.renku/workflow/*.cwl` (<= 0.10).

Every version in history is read, since the metadata may be gone at HEAD. Renku's hosts
(`https://localhost`, the deployment's host) are rebased under the project; the project
node becomes the project itself. For a `.cwl` workflow file, renku recorded no activity:
the commit that added it is the run (its author the agent, its other changes the outputs).
YAML is read within `kg.bounded`'s bounds.
"""

from __future__ import annotations

import json
import posixpath
import re
from typing import Any

import pyoxigraph as ox

from kg import iri as mint
from kg.bounded import loads_yaml
from kg.errors import InvalidInput
from kg.extract.blobs import repo_path
from kg.extract.context import Context, short_hash
from kg.extract.cwl_cmdline import command_line, file_location, inputs_by_name
from kg.extract.log import Change, Commit, is_zero
from kg.extract.rdfdoc import activities, mark_runs, names, normalize, ntriples, parse
from kg.extract.renku_plans import plan_terms
from kg.extract.renku_versions import dataset_folder, dataset_terms
from kg.extract.runs import Agent, Entity, Plan, Run, write_run
from kg.vocab import KG

_RENKU_PATH = re.compile(
    r"^https?://[^/]+(/(?:activities|blob|runs|datasets|entities|plans|dataset-files|dataset-tags|persons|urls|images)/.*)$"
)
_PROJECT = re.compile(r"^https?://[^/]+/projects/[^#]*$")
_COMMIT_ACTIVITY = re.compile(r"/activities/commit/([0-9a-f]{40})")
_IN_COMMIT = ox.NamedNode(KG + "inCommit")
_RECORDED_COMMIT = ox.NamedNode(KG + "recordedCommit")


class RenkuLegacy:
    """The Renku 0.x extractor."""

    name = "renku-legacy"

    def wants(self, path: str) -> bool:
        return True  # a .cwl run's outputs are the rest of its commit

    def finish(self, ctx: Context) -> None:
        """Nothing spans commits."""

    def rebase(self, ctx: Context, value: str) -> str:
        match = _RENKU_PATH.match(value)
        if match:
            return f"{ctx.project}/-/renku{match.group(1)}"
        if _PROJECT.match(value):
            return ctx.project
        if value.startswith("mailto:"):
            return ctx.minter.person("", value.removeprefix("mailto:"))
        return value

    def commit(self, ctx: Context, commit: Commit, changes: list[Change]) -> None:
        for ch in changes:
            path = ch.text
            if is_zero(ch.after) or not path.startswith(".renku/"):
                continue
            with ctx.reading("renku", commit.sha, path):
                if path.startswith(".renku/workflow/") and path.endswith(".cwl"):
                    if ch.status == "A":
                        self._cwl_run(ctx, commit, ch, changes)
                elif path.endswith((".yml", ".yaml")) and (
                    path == ".renku/metadata.yml" or path.startswith((".renku/datasets/", ".renku/workflow/"))
                ):
                    self._jsonld(ctx, commit, ch)

    def _triples(self, ctx: Context, blob: str, commit: Commit, path: str) -> list[ox.Triple] | None:
        """The JSON-LD in a YAML blob as triples; None if there is none."""
        raw = ctx.read_change("renku", commit.sha, blob, path, "100644")
        if raw is None:
            return None
        data = loads_yaml(raw)  # within its bounds, so the JSON written below is too
        text = json.dumps(data, default=str)
        if not isinstance(data, (dict, list)) or "@" not in text[:4096]:
            return None  # renku >= 1.0 keeps a dummy metadata.yml: no JSON-LD in it
        try:
            dataset = parse(text.encode(), ox.RdfFormat.JSON_LD, ctx.iri("renku"))
        except (SyntaxError, ValueError) as exc:
            ctx.warn("renku", f"unreadable JSON-LD: {str(exc).splitlines()[0]}", commit.sha, path)
            return None
        return normalize(ctx, dataset, ctx.iri("renku", "genid"), lambda iri: self.rebase(ctx, iri))

    def _known(self, ctx: Context, commit: Commit, ch: Change) -> set[Any]:
        """Activities of the file's versions before (warned about when their commits were read)."""
        known: set[Any] = set()
        quiet = Context(ctx.minter, ctx.project, ctx.repo, ctx.out, ctx.blobs)
        for blob in ch.before:
            if not is_zero(blob):
                try:
                    known |= activities(self._triples(quiet, blob, commit, ch.text) or [])
                except InvalidInput:
                    continue
        return known

    def _jsonld(self, ctx: Context, commit: Commit, ch: Change) -> None:
        triples = self._triples(ctx, ch.after, commit, ch.text)
        if triples is None:
            return
        folder = dataset_folder(ch.text)
        if folder is not None:
            triples, more = dataset_terms(triples, folder)
            triples += more
        runs = mark_runs(triples, "renku", None)
        known = self._known(ctx, commit, ch)
        extra = []
        for activity in activities(triples) - known:
            # renku named its run's commit in the id; after a history rewrite that commit is
            # gone: the run is then in the commit that brought its record, the named one kept
            match = _COMMIT_ACTIVITY.search(str(activity))
            named = match.group(1) if match else None
            found = ctx.blobs.info(named) if named else None
            in_history = found is not None and found[1] == "commit"
            sha = named if named and in_history else commit.sha
            extra.append(ox.Triple(activity, _IN_COMMIT, ox.NamedNode(mint.commit(ctx.project, sha))))
            if named and not in_history:
                extra.append(ox.Triple(activity, _RECORDED_COMMIT, ox.Literal(named)))
        ctx.emit(ntriples(triples + names(triples) + runs + extra + plan_terms(triples)))

    def _cwl_run(self, ctx: Context, commit: Commit, ch: Change, changes: list[Change]) -> None:
        raw = ctx.read_change("renku", commit.sha, ch.after, ch.text, ch.mode)
        cwl: Any = loads_yaml(raw, what="CWL") if raw is not None else None
        if not isinstance(cwl, dict):
            ctx.warn("renku", "CWL file is not a mapping", commit.sha, ch.text)
            return
        folder = posixpath.dirname(ch.text)
        inputs = []
        for item in inputs_by_name(cwl).values():
            location = file_location(item.get("default"))
            path = repo_path(location, folder) if location is not None else None
            if path is not None:
                inputs.append(path)
            elif location is not None:
                ctx.note("input outside the repository skipped", location)
        base = cwl.get("baseCommand")
        command = " ".join(map(str, base)) if isinstance(base, list) else str(base or "")
        line = command_line(cwl, lambda location: repo_path(location, folder) or location)
        generated = [
            Entity(mint.file_version(ctx.project, c.text, c.after), c.text, {"blob": c.after})
            for c in changes
            if not is_zero(c.after) and not c.text.startswith(".renku/")
        ]
        write_run(
            ctx,
            Run(
                iri=ctx.iri("runs", "renku", commit.sha),
                tool="renku",
                label=f"renku run {line}".strip(),
                started=commit.authored,
                ended=commit.committed,
                commit=commit.sha,
                plan=Plan(
                    iri=ctx.iri("plans", "renku", short_hash(ch.text)),
                    name=posixpath.basename(ch.text),
                    tool="renku",
                    command=command,
                    inputs=inputs,
                ),
                agents=[Agent(commit.author_name, commit.author_email)],
                used=[Entity(ctx.iri("entities", "path", i), i) for i in inputs],
                generated=generated,
                command_line=line or None,
            ),
        )
