"""RO-Crate (1.1, 1.2): Workflow / Process / Provenance Run Crate actions are runs.

The crate is read as JSON (its `@graph` is flat), so no JSON-LD context has to be fetched.
`CreateAction` and `OrganizeAction` become runs when they ran software (an `instrument`)
or the crate conforms to a Workflow Run Crate profile; others, such as eLabFTW's
"RO-Crate created", are skipped. Relative ids are paths relative to the crate's folder
(none may leave the repository); absolute ids are the crate's own words and pass
`Context.document_iri`. The crate is decoded within `kg.bounded`'s bounds.
"""

from __future__ import annotations

import posixpath
from typing import Any
from urllib.parse import unquote

from kg import iri as mint
from kg.bounded import DOCUMENT, Exceeded, loads_json
from kg.errors import InvalidInput
from kg.extract.blobs import repo_path
from kg.extract.context import Context, short_hash
from kg.extract.log import Change, Commit, is_zero
from kg.extract.runs import A, Agent, Entity, Plan, Run, p, write_run
from kg.rdf import iri, literal, triple

_ACTIONS = {"CreateAction", "OrganizeAction"}
_WFRUN = "https://w3id.org/ro/wfrun/"
_NAMES = ("ro-crate-metadata.json", "ro-crate-metadata.jsonld")
_MAX_NESTING = 32  # folders in folders whose parts are listed; deeper ones are left as folders


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("@type", [])
    return {kind} if isinstance(kind, str) else {k for k in kind if isinstance(k, str)}


def _ids(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value] if value is not None else []
    return [v["@id"] for v in values if isinstance(v, dict) and isinstance(v.get("@id"), str)]


def _is_absolute(ref: str) -> bool:
    return ":" in ref.split("/", 1)[0]


class Crate:
    """One parsed crate: nodes by id, and how ids map to paths and IRIs."""

    def __init__(self, ctx: Context, path: str, graph: list[Any]) -> None:
        self.ctx = ctx
        self.path = path
        self.folder = posixpath.dirname(path)
        self.nodes = {n["@id"]: n for n in graph if isinstance(n, dict) and isinstance(n.get("@id"), str)}
        self._keys: dict[str, str] = {}
        self.listed: set[str] = set()
        """Folders whose parts were written: once per crate, however many runs name them."""

    def location(self, ref: str) -> str | None:
        """The repository path of a relative id (None for absolute or crate-local ids, and,
        noted, for paths outside the repository)."""
        if _is_absolute(ref) or ref.startswith("#"):
            return None
        path = repo_path(unquote(ref.split("#", 1)[0]), self.folder)
        if path is None:
            self.ctx.note("id outside the repository skipped", ref)
        return path

    def iri_of(self, ref: str) -> str | None:
        """An IRI for an id: absolute ones as `document_iri` allows, others under the project;
        None to leave it out."""
        if _is_absolute(ref):
            return self.ctx.document_iri(ref)
        if not ref.startswith("#") and self.location(ref) is None:
            return None
        return self.ctx.iri("rocrate", self.path, ref)

    def run_key(self, ref: str) -> str:
        """`_run_key`; actions alike in all of it are told apart by their order in the crate
        (which regenerated ids leave as it is)."""
        if not self._keys:
            seen: dict[str, int] = {}
            for action in (r for r, n in self.nodes.items() if _types(n) & _ACTIONS):
                key = self._run_key(action)
                seen[key] = seen.get(key, 0) + 1
                self._keys[action] = key if seen[key] == 1 else short_hash(key, str(seen[key]))
        return self._keys.get(ref) or self._run_key(ref)

    def _run_key(self, ref: str) -> str:
        """What identifies the action `ref` as a run: its instrument, what it read and wrote
        (ids relative to the crate, with their hashes; parameters by name and value) and its
        times. Not its own id (tools regenerate them) nor the crate's folder (it may move)."""
        node = self.nodes.get(ref, {})

        def described(refs: list[str]) -> list[str]:
            out = []
            for x in refs:
                target = self.nodes.get(x, {})
                if "PropertyValue" in _types(target):
                    out.append(f"{target.get('name')}={target.get('value')}")
                elif not _types(target) & (_ACTIONS | {"ControlAction"}):
                    sums = ",".join(str(target.get(k)) for k in ("sha1", "sha256", "md5") if target.get(k))
                    out.append(f"{self._stable(x)}#{sums}")
            return sorted(out)

        instruments = sorted(f"{self._stable(x)}" for x in _ids(node.get("instrument")))
        times = [str(node.get("startTime") or ""), str(node.get("endTime") or "")]
        inputs, outputs = described(_ids(node.get("object"))), described(_ids(node.get("result")))
        return short_hash(str(sorted(_types(node))), *instruments, "", *inputs, "", *outputs, "", *times)

    def _stable(self, ref: str) -> str:
        """What names `ref` across rebuilds of the crate: a path or URL as it is; a `#local` id
        (tools mint a new uuid each time) by the node's type and name instead."""
        if not ref.startswith("#"):
            return ref
        target = self.nodes.get(ref, {})
        return f"#{sorted(_types(target))}:{target.get('name', '')}"

    def conforms_to_run_profile(self) -> bool:
        root = self.nodes.get("./", {})
        return any(c.startswith(_WFRUN) for c in _ids(root.get("conformsTo")))


class RoCrate:
    """The RO-Crate extractor."""

    name = "rocrate"

    def wants(self, path: str) -> bool:
        return posixpath.basename(path) in _NAMES

    def finish(self, ctx: Context) -> None:
        """Nothing spans commits."""

    def _parse(self, ctx: Context, blob: str, commit: str, path: str, *, warn: bool) -> list[Any] | None:
        """The crate's `@graph`; raises `InvalidInput` if unreadable and `warn`."""
        try:
            if is_zero(blob):
                raw = None
            elif warn:
                raw = ctx.read_change("rocrate", commit, blob, path, "100644")
            else:
                raw = ctx.blobs.read(blob)
            data = loads_json(raw) if raw is not None else None
        except InvalidInput:
            if warn:
                raise
            return None  # the version before: warned about when its own commit was read
        if data is None:
            return None
        graph = data.get("@graph") if isinstance(data, dict) else None
        if not isinstance(graph, list):
            if warn:
                ctx.warn("rocrate", "no @graph list", commit, path)
            return None
        return graph

    def commit(self, ctx: Context, commit: Commit, changes: list[Change]) -> None:
        for ch in changes:
            with ctx.reading("rocrate", commit.sha, ch.text):
                self._file(ctx, commit, ch)

    def _file(self, ctx: Context, commit: Commit, ch: Change) -> None:
        graph = self._parse(ctx, ch.after, commit.sha, ch.text, warn=True)
        if graph is None:
            return
        # Runs any parent's crate (at its path before a rename) already held are not new here.
        old_path = ch.source.decode("utf-8", "replace") if ch.source is not None else ch.text
        known: set[str] = set()
        for blob in ch.before:
            before = self._parse(ctx, blob, commit.sha, old_path, warn=False)
            if before is not None:
                old = Crate(ctx, old_path, before)
                known |= {old.run_key(ref) for ref, node in old.nodes.items() if _types(node) & _ACTIONS}
        self._crate(ctx, commit, Crate(ctx, ch.text, graph), known)

    def _entity(self, crate: Crate, commit: Commit, ref: str, depth: int = 0) -> Entity | None:
        node = crate.nodes.get(ref, {})
        entity_iri = crate.iri_of(ref)
        if entity_iri is None:
            return None
        located = crate.location(ref)
        path = located or ""  # a `#local` id or a URL elsewhere is no path of the repository
        hashes = {k: str(node[k]) for k in ("sha1", "sha256", "md5") if isinstance(node.get(k), str)}
        entity = Entity(entity_iri, path, hashes, directory="Dataset" in _types(node))
        if entity.directory and ref not in crate.listed and depth < _MAX_NESTING:
            crate.listed.add(ref)  # its listed parts are its members
            members = (self._entity(crate, commit, part, depth + 1) for part in _ids(node.get("hasPart")))
            entity.members = [m for m in members if m is not None]
            return entity
        # one object looked up, not the commit's whole tree (300,000 paths, for every commit)
        found = crate.ctx.blobs.info(f"{commit.sha}:{located}") if located else None
        if found is not None and found[1] == "blob":
            entity.git_version = mint.file_version(crate.ctx.project, path, found[0])
        return entity

    def _agent(self, crate: Crate, ref: str) -> Agent | None:
        node = crate.nodes.get(ref, {})
        name = str(node.get("name") or ref)
        agent_iri = crate.iri_of(ref)
        if agent_iri is None:
            return None
        if _types(node) & {"SoftwareApplication", "SoftwareSourceCode"}:
            return Agent(name, software_iri=agent_iri)
        return Agent(name, str(node.get("email") or ""), person_iri=agent_iri)

    def _crate(self, ctx: Context, commit: Commit, crate: Crate, known: set[Any]) -> None:
        run_profile = crate.conforms_to_run_profile()
        informed: dict[str, list[str]] = {}
        links = 0  # a control action named by many engine runs is walked once per run
        for node in crate.nodes.values():  # orchestration: engine run -> step and workflow runs
            if "OrganizeAction" in _types(node):
                engine = self._run_iri(crate, node["@id"])
                controls = [crate.nodes.get(c, {}) for c in _ids(node.get("object"))]
                steps = [step for c in controls for step in _ids(c.get("object"))]
                for step in steps + _ids(node.get("result")):
                    informed.setdefault(step, []).append(engine)
                links += len(steps)
                if links > DOCUMENT.max_nodes:
                    raise Exceeded(f"orchestration links more than {DOCUMENT.max_nodes} runs")
        lines: list[str] = []
        for node in crate.nodes.values():
            if not _types(node) & _ACTIONS:
                continue
            instruments = _ids(node.get("instrument"))
            if not instruments and not run_profile:
                continue  # e.g. "RO-Crate created": not a computation
            new = crate.run_key(node["@id"]) not in known
            self._action(ctx, commit, crate, node, instruments, informed, new)
        root = crate.nodes.get("./")
        if root is not None:
            s = iri(ctx.iri("rocrate", crate.path, "./"))
            lines += [
                triple(s, A, p("schema:Dataset")),
                triple(s, p("prov:atLocation"), literal(crate.folder or ".")),
            ]
            name = root.get("name") if isinstance(root.get("name"), str) else crate.folder or "."
            lines.append(triple(s, p("schema:name"), literal(str(name))))
            for part in _ids(root.get("hasPart")):
                part_iri = crate.iri_of(part)
                if part_iri is not None:
                    lines.append(triple(s, p("schema:hasPart"), iri(part_iri)))
        ctx.emit(lines)

    def _run_iri(self, crate: Crate, ref: str) -> str:
        return crate.ctx.iri("runs", "rocrate", crate.run_key(ref))

    def _action(
        self,
        ctx: Context,
        commit: Commit,
        crate: Crate,
        node: dict[str, Any],
        instruments: list[str],
        informed: dict[str, list[str]],
        new: bool,
    ) -> None:
        plan = None
        plan_iri = crate.iri_of(instruments[0]) if instruments else None
        if plan_iri is not None:
            tool = crate.nodes.get(instruments[0], {})
            plan = Plan(
                iri=plan_iri,
                name=str(tool.get("name") or instruments[0]),
                tool="rocrate",
                description=tool.get("description") if isinstance(tool.get("description"), str) else None,
            )
        used, parameters = [], {}
        for ref in _ids(node.get("object")):
            target = crate.nodes.get(ref, {})
            kinds = _types(target)
            if "PropertyValue" in kinds:
                parameters[str(target.get("name") or ref)] = str(target.get("value"))
            elif not kinds & (_ACTIONS | {"ControlAction"}):
                used.append(self._entity(crate, commit, ref))
        generated = [
            self._entity(crate, commit, ref)
            for ref in _ids(node.get("result"))
            if not _types(crate.nodes.get(ref, {})) & _ACTIONS
        ]
        agents = [self._agent(crate, a) for a in _ids(node.get("agent"))]
        # RO-Crate keeps no command line: the instrument, then the actual values and paths
        words = [plan.name] if plan is not None else []
        words += [*parameters.values(), *(e.path for e in used if e and e.path)]
        words += [e.path for e in generated if e and e.path]
        start, end = node.get("startTime"), node.get("endTime")
        write_run(
            ctx,
            Run(
                iri=self._run_iri(crate, node["@id"]),
                tool="rocrate",
                label=str(node.get("name") or node["@id"]),
                started=str(start or end or commit.authored),
                ended=str(end) if end else None,
                commit=commit.sha if new else None,
                plan=plan,
                agents=[a for a in agents if a is not None],
                used=[e for e in used if e is not None],
                generated=[e for e in generated if e is not None],
                parameters=parameters,
                informed_by=informed.get(node["@id"], []),
                # one label per run: a run seen before (its crate moved) keeps its first
                command_line=" ".join(words) or None if new else None,
            ),
        )
