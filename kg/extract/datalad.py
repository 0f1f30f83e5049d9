"""DataLad run records: `datalad run` commits are runs.

The record is the JSON block between DataLad's markers in the commit message, or, with
`datalad.run.record-sidecar`, an id naming an xz-compressed JSON file in the same commit.
Inputs are globs relative to `pwd`, resolved against the parent commit's tree; what a run
generated is the commit's actual diff (declared outputs may be directories, globs or paths
inside subdatasets). Annexed files carry their annex key's hash.

The record and its sidecar are decoded within `kg.bounded`'s bounds; paths must stay inside
the repository; globs are matched in linear time (`kg.extract.glob`), within a budget of
path tests per ingest.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from typing import Any

from kg.bounded import Exceeded, decompress_xz, loads_json
from kg.errors import InvalidInput
from kg.extract.blobs import repo_path
from kg.extract.context import Context, TreeEntry, short_hash, tree
from kg.extract.glob import Glob, has_magic
from kg.extract.log import Change, Commit, is_zero
from kg.extract.runs import Agent, Entity, Plan, Run, git_entity, write_run

_BEGIN = "=== Do not change lines below ==="
_END = "^^^ Do not change lines above ^^^"
_ANNEX_KEY = re.compile(r"(?P<backend>[A-Z0-9]+?)E?(?:-s\d+)?(?:-[mSC]\d+)*--(?P<digest>[0-9a-fA-F]+)")
_ALGORITHMS = {"MD5": "md5", "SHA1": "sha1", "SHA256": "sha256", "SHA512": "sha512"}
_DEFAULT_RECORD_DIR = ".datalad/runinfo"

_MAX_LINK = 4096  # PATH_MAX: a symlink's target
_MAX_POINTER = 511  # an unlocked annexed file's pointer is one short line

MAX_GLOB_TESTS = 5_000_000
"""Path tests (glob x file of the tree) one ingest may cost, all run records together, a
minute at worst; beyond it the remaining globs are kept as declared. A thousand run records
with a glob each over a 300,000-file tree would otherwise pin the worker for minutes."""


def annex_hashes(link_target: str) -> dict[str, str]:
    """Hashes in the annex key a symlink points to (empty if it is not an annex link).

    >>> annex_hashes("../.git/annex/objects/fV/Mm/MD5E-s7--afa9.png/MD5E-s7--afa9.png")
    {'md5': 'afa9', 'annexKey': 'MD5E-s7--afa9.png'}
    """
    if "/annex/objects/" not in link_target:
        return {}
    key = posixpath.basename(link_target)
    match = _ANNEX_KEY.match(key)
    if match is None:
        return {"annexKey": key}
    algorithm = _ALGORITHMS.get(match.group("backend"))
    hashes = {algorithm: match.group("digest").lower()} if algorithm else {}
    return {**hashes, "annexKey": key}


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(inputs|outputs|pwd|dspath)(?:\[(\d+)\])?\}")


def expand(command: str, values: dict[str, list[str]]) -> str:
    """A run record's command with DataLad's placeholders filled in, as `datalad run` did
    (`{inputs}`, `{outputs}`, `{inputs[0]}`, `{pwd}`, `{dspath}`, `{{`); others are kept.

    >>> expand("cat {inputs} > {outputs[0]} {{x}} {tmpdir}", {"inputs": ["a", "b"], "outputs": ["c"]})
    'cat a b > c {x} {tmpdir}'
    """

    def fill(m: re.Match[str]) -> str:
        if m.group(0) in ("{{", "}}"):
            return m.group(0)[0]
        found = values.get(m.group(1), [])
        if m.group(2) is None:
            return " ".join(found)
        index = int(m.group(2))
        return found[index] if index < len(found) else m.group(0)

    return _PLACEHOLDER.sub(fill, command)


def _record_text(message: str) -> str | None:
    if "[DATALAD" not in message or _BEGIN not in message or _END not in message:
        return None
    return message.split(_BEGIN, 1)[1].split(_END, 1)[0].strip()


class DataLad:
    """The DataLad extractor."""

    name = "datalad"

    def __init__(self) -> None:
        self._budget = [MAX_GLOB_TESTS]  # one ingest's, shared by all its run records

    def wants(self, path: str) -> bool:
        return True  # generated files are the whole diff of a run commit

    def finish(self, ctx: Context) -> None:
        """Nothing spans commits."""

    def _record(self, ctx: Context, commit: Commit, text: str) -> dict[str, Any] | None:
        try:
            record = loads_json(text)
        except InvalidInput as exc:
            ctx.warn("datalad", f"unreadable run record: {exc}", commit.sha)
            return None
        if isinstance(record, str):  # a sidecar id
            path = repo_path(f"{_DEFAULT_RECORD_DIR}/{record}")
            if path is None:
                ctx.warn("datalad", f"run record sidecar outside the repository: {record[:80]!r}", commit.sha)
                return None
            raw = ctx.blobs.read(f"{commit.sha}:{path}")
            if raw is None:
                ctx.warn("datalad", "run record sidecar missing", commit.sha, path)
                return None
            decoded = False
            with ctx.reading("datalad", commit.sha, path):  # the sidecar's own warning, if any
                lines = decompress_xz(raw, what="xz sidecar").decode("utf-8").splitlines()
                record = loads_json(lines[0] if lines else "", what="JSON sidecar")
                decoded = True
            if not decoded:
                return None
        if not isinstance(record, dict) or not isinstance(record.get("cmd"), (str, list)):
            ctx.warn("datalad", "run record has no command", commit.sha)
            return None
        return record

    def _entity(self, ctx: Context, path: str, entry: TreeEntry) -> Entity:
        entity = git_entity(ctx, path, entry.blob)
        # An annexed file is a symlink to its key, or (unlocked) a tiny pointer file naming
        # it: a larger blob is data, and is never read.
        limit = {"120000": _MAX_LINK, "100644": _MAX_POINTER}.get(entry.mode)
        if limit is not None:
            try:
                target = ctx.blobs.read(entry.blob, limit=limit)
            except Exceeded:
                target = None
            if target is not None:
                entity.hashes.update(annex_hashes(target.decode("utf-8", "replace")))
        return entity

    def _inputs(self, ctx: Context, parent: str | None, patterns: list[str]) -> list[Entity]:
        out: list[Entity] = []
        for pattern in patterns:
            matched = self._resolve(ctx, parent, pattern.rstrip("/"), self._budget) if parent else {}
            if not matched:  # e.g. inside a subdataset: keep the declared path
                out.append(Entity(ctx.iri("entities", "path", pattern), pattern))
            out += [self._entity(ctx, path, entry) for path, entry in sorted(matched.items())]
        return out

    def _resolve(self, ctx: Context, commit: str, pattern: str, budget: list[int]) -> dict[str, TreeEntry]:
        """Files of `commit` a pattern names: a glob, a directory, or one file."""
        if not has_magic(pattern):
            found = ctx.blobs.info(f"{commit}:{pattern}")
            if found is None:
                return {}
            if found[1] == "blob":  # the mode matters only for annex links, read below
                return {pattern: TreeEntry("100644", found[0], found[2])}
        try:
            glob = Glob(pattern)
        except Exceeded as exc:
            ctx.note(f"input not resolved: {exc}", pattern)
            return {}
        files = tree(ctx.repo, commit)
        budget[0] -= len(files)
        if budget[0] < 0:
            ctx.note(f"input not resolved: globs need more than {MAX_GLOB_TESTS} path tests", pattern)
            return {}
        return {path: e for path, e in files.items() if glob.match(path)}

    def commit(self, ctx: Context, commit: Commit, changes: list[Change]) -> None:
        text = _record_text(commit.message)
        if text is not None:
            with ctx.reading("datalad", commit.sha):
                self._run(ctx, commit, changes, text)

    def _run(self, ctx: Context, commit: Commit, changes: list[Change], text: str) -> None:
        record = self._record(ctx, commit, text)
        if record is None:
            return
        pwd = str(record.get("pwd") or ".")

        def rooted(paths: Any) -> list[str]:
            values = paths if isinstance(paths, list) else [paths] if isinstance(paths, str) else []
            out = []
            for value in map(str, values):
                path = repo_path(value, pwd)
                if path is None:
                    ctx.note("path outside the repository skipped", value)
                else:
                    out.append(path)
            return out

        command = record["cmd"] if isinstance(record["cmd"], str) else " ".join(map(str, record["cmd"]))
        declared, extra = rooted(record.get("inputs")), rooted(record.get("extra_inputs"))
        inputs = declared + extra
        outputs = rooted(record.get("outputs"))
        parent = commit.parents[0] if commit.parents else None
        generated = [
            self._entity(ctx, ch.text, TreeEntry(ch.mode, ch.after))
            for ch in changes
            if not is_zero(ch.after) and not ch.text.startswith(_DEFAULT_RECORD_DIR + "/")
        ]
        named = self._inputs(ctx, parent, declared)  # `{inputs}` leaves extra inputs out
        used = named + self._inputs(ctx, parent, extra)
        # the paths as the command saw them: relative to its working directory
        # (datalad quotes each path it fills in)
        seen = {
            "inputs": [shlex.quote(posixpath.relpath(e.path, pwd)) for e in named],
            "outputs": [shlex.quote(posixpath.relpath(x, pwd)) for x in outputs],
            "pwd": [shlex.quote(pwd)],
            "dspath": ["."],
        }
        plan = Plan(
            iri=ctx.iri("plans", "datalad", short_hash(command, pwd)),
            name=command if len(command) <= 80 else command[:77] + "...",
            tool="datalad",
            command=command,
            inputs=inputs,
            outputs=outputs,
        )
        exit_code = record.get("exit")
        chain = [c for c in record.get("chain") or [] if isinstance(c, str)]
        write_run(
            ctx,
            Run(
                iri=ctx.iri("runs", "datalad", commit.sha),
                tool="datalad",
                label=commit.message.split("\n", 1)[0],
                started=commit.authored,
                ended=commit.committed,
                commit=commit.sha,
                plan=plan,
                agents=[Agent(commit.author_name, commit.author_email)]
                + (
                    [Agent(commit.committer_name, commit.committer_email)]
                    if commit.committer_email != commit.author_email
                    else []
                ),
                used=used,
                generated=generated,
                command_line=expand(command, seen),
                exit_code=exit_code if isinstance(exit_code, int) else None,
                informed_by=[ctx.iri("runs", "datalad", c) for c in chain],
                parameters={
                    "pwd": pwd,
                    **({"dsid": str(record["dsid"])} if record.get("dsid") else {}),
                },
            ),
        )
