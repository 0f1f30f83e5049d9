"""DVC pipelines: stages are plans, every change of a stage's lock entry is a run.

Reads every era: per-stage `*.dvc` files (DVC 0.x), `dvc.lock` without `schema` (1.x),
`schema: '2.0'` with and without `hash: md5` (2.x, 3.x), `dvc.yaml` stages with
`foreach`/`matrix`, and `dvc add` / `dvc import` files. DVC records no run times: a run
takes the time and author of the commit that changed its lock entry.

YAML is read within `kg.bounded`'s bounds, paths must stay inside the repository, and a
stage template standing for more than `MAX_EXPANDED_STAGES` stages is skipped.
"""

from __future__ import annotations

import itertools
import math
import posixpath
import re
from typing import Any

from kg.bounded import DOCUMENT, Exceeded, loads_yaml
from kg.errors import InvalidInput
from kg.extract.blobs import repo_path
from kg.extract.context import Context, short_hash
from kg.extract.hashes import git_version_with
from kg.extract.log import Change, Commit, is_zero
from kg.extract.runs import (
    A,
    Agent,
    Entity,
    Plan,
    Run,
    entity_lines,
    p,
    plan_lines,
    tool_entity,
    write_run,
)
from kg.rdf import iri, literal, triple
from kg.vocab import PROV

_TEMPLATE = re.compile(r"\$\{\s*(item|key)(?:\.([\w.]+))?\s*\}")

MAX_EXPANDED_STAGES = 1000
"""Stages one `foreach`/`matrix` definition may stand for. Generated sweeps of a few hundred
runs exist; beyond a thousand, a definition is a product of axes nobody runs (10 axes of 10
values are 10**10 stages), and each stage costs a plan of ~10 triples plus a copy of its body."""


def _load(ctx: Context, blob: str, commit: str, path: str) -> Any:
    """The YAML of a blob; None if there is none. Raises `InvalidInput` if it is not readable."""
    if is_zero(blob):
        return None
    raw = ctx.blobs.read(blob)
    if raw is None:
        ctx.warn("dvc", f"git object {blob} is not readable", commit, path)
        return None
    return loads_yaml(raw)


def _command(value: Any) -> str:
    if isinstance(value, list):
        return " && ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _join(ctx: Context, base: str, path: str) -> str | None:
    """A path the file declares, relative to `base`; None (noted) if outside the repository."""
    found = repo_path(path, base)
    if found is None:
        ctx.note("path outside the repository skipped", path)
    return found


def _run_key(file: str, stage: str, entry: dict[str, Any]) -> str:
    """What identifies a stage's run: its command, and the paths and hashes of what it read
    and wrote (not the file's formatting, nor the order of its keys)."""

    def files(key: str) -> list[str]:
        items = entry.get(key)
        return sorted(
            f"{x.get('path')}\0{x.get('md5') or x.get('checksum') or ''}"
            for x in (items if isinstance(items, list) else [])
            if isinstance(x, dict)
        )

    params = sorted(_flat_params(entry.get("params")).items())
    parts = [file, stage, _command(entry.get("cmd")), *files("deps"), "", *files("outs"), ""]
    parts += [*files("metrics"), "", *(f"{k}={v}" for k, v in params)]
    return short_hash(*parts)


def _flat_params(params: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(params, dict):
        for file, values in params.items():
            if isinstance(values, dict):
                prefix = "" if file == "params.yaml" else f"{file}:"
                out.update({f"{prefix}{k}": str(v) for k, v in values.items()})
            else:  # a bare key (dvc.yaml style)
                out[str(file)] = str(values)
    return out


class Dvc:
    """The DVC extractor."""

    name = "dvc"

    def wants(self, path: str) -> bool:
        name = posixpath.basename(path)
        return name in ("dvc.lock", "dvc.yaml") or name.endswith(".dvc")

    def commit(self, ctx: Context, commit: Commit, changes: list[Change]) -> None:
        for ch in changes:
            with ctx.reading("dvc", commit.sha, ch.text):
                self._file(ctx, commit, ch)

    def _file(self, ctx: Context, commit: Commit, ch: Change) -> None:
        path = ch.text
        name = posixpath.basename(path)
        new = _load(ctx, ch.after, commit.sha, path)
        if new is None:
            return
        if not isinstance(new, dict):
            ctx.warn("dvc", "not a YAML mapping", commit.sha, path)
            return
        # A merge lists one version per parent: what any parent had already ran there.
        parents = [x for x in (self._previous(ctx, commit, path, blob) for blob in ch.before) if x]
        if name == "dvc.lock":
            self._lock(ctx, commit, path, new, parents)
        elif name == "dvc.yaml":
            self._pipeline(ctx, commit, path, new)
        elif "cmd" in new:  # a DVC 0.x stage file
            stage = name.removesuffix(".dvc")
            base = posixpath.dirname(path)
            self._run(ctx, commit, path, stage, new, self._stage_dir(ctx, base, new), parents)
        else:
            self._tracked(ctx, commit, path, new)

    @staticmethod
    def _previous(ctx: Context, commit: Commit, path: str, blob: str) -> dict[str, Any] | None:
        try:
            old = _load(ctx, blob, commit.sha, path)
        except InvalidInput:  # warned when its own commit was read
            return None
        return old if isinstance(old, dict) else None

    def finish(self, ctx: Context) -> None:
        """Nothing spans commits."""

    @staticmethod
    def _stage_dir(ctx: Context, folder: str, definition: Any) -> str | None:
        """The working directory of a stage defined in a file of `folder` (its `wdir`,
        relative to that folder); None (noted) if it leaves the repository."""
        wdir = definition.get("wdir") if isinstance(definition, dict) else None
        if not isinstance(wdir, str) or wdir in ("", "."):
            return folder
        return _join(ctx, folder, wdir)

    def _working_dirs(self, ctx: Context, commit: Commit, lock: str) -> dict[str, Any]:
        """Stage definitions of the `dvc.yaml` beside a lock file at `commit` (by name):
        lock paths are relative to the stage's `wdir`, which only `dvc.yaml` declares."""
        pipeline = posixpath.join(posixpath.dirname(lock), "dvc.yaml")
        try:
            raw = ctx.blobs.read(f"{commit.sha}:{pipeline}")
            data = loads_yaml(raw) if raw is not None else None
        except InvalidInput:  # warned about where the dvc.yaml itself changed
            return {}
        stages = data.get("stages") if isinstance(data, dict) else None
        found: dict[str, Any] = {}
        for name, stage in stages.items() if isinstance(stages, dict) else []:
            if not isinstance(stage, dict):
                continue
            found[str(name)] = stage
            try:  # a foreach stage's wdir is in its `do` template, with `${item}` filled in
                found.update(_expand(str(name), stage))
            except Exceeded:  # warned about where the dvc.yaml itself changed
                continue
        return found

    def _lock(
        self, ctx: Context, commit: Commit, path: str, new: dict[str, Any], parents: list[dict[str, Any]]
    ) -> None:
        stages = new.get("stages", new) if "schema" in new else new
        if not isinstance(stages, dict):
            ctx.warn("dvc", "no stages in lock file", commit.sha, path)
            return
        before = [old.get("stages", old) if "schema" in old else old for old in parents]
        definitions = self._working_dirs(ctx, commit, path)
        folder = posixpath.dirname(path)
        for stage, entry in stages.items():
            if stage == "schema" or not isinstance(entry, dict):
                continue
            earlier = [old.get(stage) for old in before if isinstance(old, dict)]
            # foreach/matrix stages are locked as `name@key`; failing that, the template's
            definition = definitions.get(str(stage)) or _template(definitions.get(str(stage).split("@")[0]))
            base = self._stage_dir(ctx, folder, definition)
            self._run(ctx, commit, path, str(stage), entry, base, [e for e in earlier if isinstance(e, dict)])

    def _entities(self, ctx: Context, commit: Commit, items: Any, base: str) -> list[Entity]:
        out = []
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or "path" not in item:
                continue
            path = _join(ctx, base, str(item["path"]))
            if path is None:
                continue
            md5 = item.get("md5") or item.get("checksum")
            # a directory output: its md5 names a listing (`.dir`), DVC 3 counts its files
            directory = "nfiles" in item or (isinstance(md5, str) and md5.endswith(".dir"))
            if not md5:
                out.append(Entity(ctx.iri("entities", "path", path), path, directory=directory))
                continue
            md5 = str(md5)
            entity = tool_entity(ctx, path, "md5", md5, directory=directory)
            if not directory:
                entity.git_version = git_version_with(ctx, commit.sha, path, "md5", md5)
            out.append(entity)
        return out

    def _run(
        self,
        ctx: Context,
        commit: Commit,
        file: str,
        stage: str,
        entry: dict[str, Any],
        base: str | None,
        earlier: list[dict[str, Any]],
    ) -> None:
        """A stage's run, unless a parent commit already recorded the same run (command,
        inputs and outputs with their hashes: a reformatted file is no new run)."""
        if base is None:  # its working directory leaves the repository (noted)
            return
        base = "" if base == "." else base
        key = _run_key(file, stage, entry)
        if any(_run_key(file, stage, old) == key for old in earlier):
            return
        command = _command(entry.get("cmd"))
        used = self._entities(ctx, commit, entry.get("deps"), base)
        made = self._entities(ctx, commit, entry.get("outs"), base)
        made += self._entities(ctx, commit, entry.get("metrics"), base)
        pipeline = posixpath.join(posixpath.dirname(file), "dvc.yaml")
        plan = Plan(
            iri=ctx.iri("plans", "dvc", short_hash(pipeline, stage.split("@")[0], command)),
            name=stage,
            tool="dvc",
            command=command,
            inputs=[e.path for e in used],
            outputs=[e.path for e in made],
        )
        write_run(
            ctx,
            Run(
                iri=ctx.iri("runs", "dvc", key),
                tool="dvc",
                label=f"dvc stage {stage}",
                started=commit.authored,
                ended=commit.committed,
                commit=commit.sha,
                plan=plan,
                agents=[Agent(commit.author_name, commit.author_email)],
                used=used,
                generated=made,
                parameters=_flat_params(entry.get("params")),
                command_line=command or None,
            ),
        )

    def _tracked(self, ctx: Context, commit: Commit, path: str, data: dict[str, Any]) -> None:
        """A `dvc add` or `dvc import` file: data under DVC's control, added by a commit."""
        base = posixpath.dirname(path)
        commit_term = iri(f"{ctx.project}/-/commits/{commit.sha}")
        lines: list[str] = []
        for entity in self._entities(ctx, commit, data.get("outs"), base):
            s = iri(entity.iri)
            lines += entity_lines(entity)
            lines += [
                triple(s, p("prov:wasGeneratedBy"), commit_term),
                triple(s, A, p("schema:Dataset")),
                triple(s, p("schema:name"), literal(entity.path)),
            ]
            if isinstance(data.get("desc"), str):
                lines.append(triple(s, p("schema:description"), literal(data["desc"])))
            for dep in data.get("deps") or []:
                repo = dep.get("repo") if isinstance(dep, dict) else None
                if isinstance(repo, dict) and isinstance(repo.get("url"), str):
                    source = f"{repo['url']}@{repo.get('rev_lock', '')}:{dep.get('path', '')}"
                    lines.append(triple(s, p("kg:importedFrom"), literal(source)))
                    web = repo["url"].startswith(("http://", "https://"))
                    source_iri = ctx.document_iri(repo["url"]) if web else None
                    if source_iri is not None:
                        lines.append(triple(s, iri(PROV + "hadPrimarySource"), iri(source_iri)))
                elif isinstance(dep, dict) and isinstance(dep.get("path"), str) and "://" in dep["path"]:
                    lines.append(triple(s, p("kg:importedFrom"), literal(dep["path"])))
        ctx.emit(lines)

    def _pipeline(self, ctx: Context, commit: Commit, path: str, data: dict[str, Any]) -> None:
        """Stages of a `dvc.yaml` as plans (with foreach/matrix expanded), artifacts as datasets."""
        base = posixpath.dirname(path)
        lines: list[str] = []
        stages = data.get("stages")
        for name, stage in stages.items() if isinstance(stages, dict) else []:
            if not isinstance(stage, dict):
                continue
            try:
                expansions = _expand(str(name), stage)
            except Exceeded as exc:  # this definition only: the other stages are read
                ctx.warn("dvc", f"stage {str(name)!r} skipped: {exc}", commit.sha, path)
                continue
            for expanded, definition in expansions:
                folder = Dvc._stage_dir(ctx, base, definition)
                if folder is None:
                    continue
                command = _command(definition.get("cmd"))
                desc = definition.get("desc")
                plan = Plan(
                    iri=ctx.iri("plans", "dvc", short_hash(path, str(name), command)),
                    name=expanded,
                    tool="dvc",
                    command=command,
                    inputs=_declared(ctx, definition, "deps", folder),
                    outputs=[
                        x
                        for key in ("outs", "metrics", "plots")
                        for x in _declared(ctx, definition, key, folder)
                    ],
                    description=desc if isinstance(desc, str) else None,
                )
                lines += plan_lines(plan)
        artifacts = data.get("artifacts")
        for name, artifact in artifacts.items() if isinstance(artifacts, dict) else []:
            if not isinstance(artifact, dict) or not isinstance(artifact.get("path"), str):
                continue
            location = _join(ctx, base, artifact["path"])
            if location is None:
                continue
            a = iri(ctx.iri("artifacts", "dvc", str(name)))
            kind = "schema:Dataset" if artifact.get("type") == "dataset" else "kg:Model"
            lines += [
                triple(a, A, p(kind)),
                triple(a, p("schema:name"), literal(str(name))),
                triple(a, p("prov:atLocation"), literal(location)),
            ]
            if isinstance(artifact.get("desc"), str):
                lines.append(triple(a, p("schema:description"), literal(artifact["desc"])))
            for label in artifact.get("labels") or []:
                lines.append(triple(a, p("schema:keywords"), literal(str(label))))
        ctx.emit(lines)


def _declared(ctx: Context, definition: dict[str, Any], key: str, base: str) -> list[str]:
    """Paths a stage declares under `key` (entries are paths or `{path: options}`)."""
    paths = [
        _join(ctx, base, str(next(iter(x)) if isinstance(x, dict) else x))
        for x in (definition.get(key) or [])
        if isinstance(x, (str, dict)) and x
    ]
    return [x for x in paths if x is not None]


class _Substitution:
    """`${item...}` and `${key}` filled in, within a budget of characters written: a short
    template repeated over long items must not grow without bound."""

    def __init__(self, budget: int = DOCUMENT.max_bytes) -> None:
        self.left = budget

    def __call__(self, value: Any, key: str, item: Any) -> Any:
        if isinstance(value, str):

            def repl(m: re.Match[str]) -> str:
                target: Any = key if m.group(1) == "key" else item
                for part in (m.group(2) or "").split(".") if m.group(2) else []:
                    target = target.get(part, "") if isinstance(target, dict) else ""
                text = str(target)
                self.left -= len(text)
                if self.left < 0:
                    raise Exceeded(f"substitutions write more than {DOCUMENT.max_bytes} characters")
                return text

            return _TEMPLATE.sub(repl, value)
        if isinstance(value, list):
            return [self(v, key, item) for v in value]
        if isinstance(value, dict):
            return {k: self(v, key, item) for k, v in value.items()}
        return value


def _values(value: Any, limit: int) -> int:
    """How many values `value` holds (counting stops past `limit`)."""
    count, todo = 0, [value]
    while todo and count <= limit:
        x = todo.pop()
        count += 1
        if isinstance(x, dict):
            todo += x.values()
        elif isinstance(x, list):
            todo += x
    return count


def _check_expansion(stages: int, values_each: int) -> None:
    if stages > MAX_EXPANDED_STAGES:
        raise Exceeded(f"expands to {stages} stages, more than {MAX_EXPANDED_STAGES}")
    if stages * values_each > DOCUMENT.max_nodes:
        raise Exceeded(f"expands to more than {DOCUMENT.max_nodes} values")


def _template(stage: Any) -> Any:
    """The body a `foreach` stage repeats (it holds the `wdir`), else the stage itself."""
    if isinstance(stage, dict) and "foreach" in stage and isinstance(stage.get("do"), dict):
        return stage["do"]
    return stage


def _expand(name: str, stage: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A stage, or the stages a `foreach`/`do` or `matrix` template stands for (`name@key`).

    Raises `Exceeded` past `MAX_EXPANDED_STAGES` stages, or if the copies of the template
    would hold more values than a document may.

    >>> [n for n, _ in _expand("s", {"matrix": {"a": [1, 2], "b": ["x", "y"]}, "cmd": "c"})]
    ['s@1-x', 's@1-y', 's@2-x', 's@2-y']
    >>> _expand("s", {"matrix": {f"a{i}": list(range(10)) for i in range(10)}})
    Traceback (most recent call last):
    ...
    kg.bounded.Exceeded: expands to 10000000000 stages, more than 1000
    """
    if "foreach" in stage and isinstance(stage.get("do"), dict):
        items = stage["foreach"]
        if isinstance(items, dict):
            pairs = [(str(k), v) for k, v in items.items()]
        elif isinstance(items, list):
            pairs = [(str(v) if not isinstance(v, (dict, list)) else str(i), v) for i, v in enumerate(items)]
        else:
            return [(name, stage)]
        _check_expansion(len(pairs), _values(stage["do"], DOCUMENT.max_nodes))
        substitute = _Substitution()
        return [(f"{name}@{k}", substitute(stage["do"], k, v)) for k, v in pairs]
    if isinstance(stage.get("matrix"), dict):
        axes = [(k, v if isinstance(v, list) else [v]) for k, v in stage["matrix"].items()]
        _check_expansion(math.prod(len(values) for _, values in axes), 1)
        out = []
        for combo in itertools.product(*(values for _, values in axes)):
            key = "-".join(str(v) for v in combo)
            body = {k: v for k, v in stage.items() if k != "matrix"}
            out.append((f"{name}@{key}", body))
        return out
    return [(name, stage)]
