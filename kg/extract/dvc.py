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
        ctx.warn("dvc", "blob not readable", commit, path)
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
        try:
            old = _load(ctx, ch.before[0], commit.sha, path) if ch.before else None
        except InvalidInput:  # warned when its own commit was read
            old = None
        old = old if isinstance(old, dict) else {}
        if name == "dvc.lock":
            self._lock(ctx, commit, path, new, old)
        elif name == "dvc.yaml":
            self._pipeline(ctx, commit, path, new)
        elif "cmd" in new:  # a DVC 0.x stage file
            stage = name.removesuffix(".dvc")
            if new != old:
                self._run(ctx, commit, path, stage, new, posixpath.dirname(path))
        else:
            self._tracked(ctx, commit, path, new)

    def finish(self, ctx: Context) -> None:
        """Nothing spans commits."""

    def _lock(
        self, ctx: Context, commit: Commit, path: str, new: dict[str, Any], old: dict[str, Any]
    ) -> None:
        stages = new.get("stages", new) if "schema" in new else new
        old_stages = old.get("stages", old) if "schema" in old else old
        if not isinstance(stages, dict):
            ctx.warn("dvc", "no stages in lock file", commit.sha, path)
            return
        base = posixpath.dirname(path)
        for stage, entry in stages.items():
            if stage == "schema" or not isinstance(entry, dict):
                continue
            if isinstance(old_stages, dict) and old_stages.get(stage) == entry:
                continue  # this stage did not run again in this commit
            self._run(ctx, commit, path, str(stage), entry, base)

    def _entities(self, ctx: Context, commit: Commit, items: Any, base: str) -> list[Entity]:
        out = []
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or "path" not in item:
                continue
            path = _join(ctx, base, str(item["path"]))
            if path is None:
                continue
            md5 = item.get("md5") or item.get("checksum")
            if not md5:
                out.append(Entity(ctx.iri("entities", "path", path), path))
                continue
            md5 = str(md5)
            directory = md5.endswith(".dir")
            entity = tool_entity(ctx, path, "md5", md5, directory=directory)
            if not directory:
                entity.git_version = git_version_with(ctx, commit.sha, path, "md5", md5)
            out.append(entity)
        return out

    def _run(
        self, ctx: Context, commit: Commit, file: str, stage: str, entry: dict[str, Any], base: str
    ) -> None:
        wdir = entry.get("wdir")
        if isinstance(wdir, str) and wdir not in ("", "."):
            moved = _join(ctx, base, wdir)
            if moved is None:
                return
            base = moved
        base = "" if base == "." else base
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
                iri=ctx.iri("runs", "dvc", short_hash(file, stage), commit.sha),
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
                command = _command(definition.get("cmd"))
                desc = definition.get("desc")
                plan = Plan(
                    iri=ctx.iri("plans", "dvc", short_hash(path, str(name), command)),
                    name=expanded,
                    tool="dvc",
                    command=command,
                    inputs=_declared(ctx, definition, "deps", base),
                    outputs=[
                        x
                        for key in ("outs", "metrics", "plots")
                        for x in _declared(ctx, definition, key, base)
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
