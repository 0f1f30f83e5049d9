"""DataLad run records: `datalad run` commits are runs.

The record is the JSON block between DataLad's markers in the commit message, or, with
`datalad.run.record-sidecar`, an id naming an xz-compressed JSON file in the same commit.
Inputs are globs relative to `pwd`, resolved against the parent commit's tree; what a run
generated is the commit's actual diff (declared outputs may be directories, globs or paths
inside subdatasets). Annexed files carry their annex key's hash.
"""

from __future__ import annotations

import json
import lzma
import posixpath
import re
from typing import Any

from kg.extract.context import Context, TreeEntry, short_hash, tree
from kg.extract.log import Change, Commit, is_zero
from kg.extract.runs import Agent, Entity, Plan, Run, git_entity, write_run

_BEGIN = "=== Do not change lines below ==="
_END = "^^^ Do not change lines above ^^^"
_ANNEX_KEY = re.compile(r"(?P<backend>[A-Z0-9]+?)E?(?:-s\d+)?(?:-[mSC]\d+)*--(?P<digest>[0-9a-fA-F]+)")
_ALGORITHMS = {"MD5": "md5", "SHA1": "sha1", "SHA256": "sha256", "SHA512": "sha512"}
_DEFAULT_RECORD_DIR = ".datalad/runinfo"


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A shell glob as a regex over repository paths (`*` stays within a directory).

    >>> bool(glob_regex("first/sub-*/*_seg.nii.gz").match("first/sub-01/a_seg.nii.gz"))
    True
    >>> bool(glob_regex("a/*.png").match("a/b/c.png"))
    False
    """
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        out.append({"*": "[^/]*", "?": "[^/]"}.get(c, re.escape(c)))
        i += 1
    return re.compile("".join(out) + "(/.*)?$")


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


def _record_text(message: str) -> str | None:
    if "[DATALAD" not in message or _BEGIN not in message or _END not in message:
        return None
    return message.split(_BEGIN, 1)[1].split(_END, 1)[0].strip()


class DataLad:
    """The DataLad extractor."""

    name = "datalad"

    def wants(self, path: str) -> bool:
        return True  # generated files are the whole diff of a run commit

    def finish(self, ctx: Context) -> None:
        """Nothing spans commits."""

    def _record(self, ctx: Context, commit: Commit, text: str) -> dict[str, Any] | None:
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            ctx.warn("datalad", f"run record is not valid JSON: {exc}", commit.sha)
            return None
        if isinstance(record, str):  # a sidecar id
            path = f"{_DEFAULT_RECORD_DIR}/{record}"
            raw = ctx.blobs.read(f"{commit.sha}:{path}")
            if raw is None:
                ctx.warn("datalad", "run record sidecar missing", commit.sha, path)
                return None
            try:
                record = json.loads(lzma.decompress(raw).decode("utf-8").splitlines()[0])
            except (lzma.LZMAError, UnicodeDecodeError, json.JSONDecodeError, IndexError) as exc:
                ctx.warn("datalad", f"unreadable run record sidecar: {exc}", commit.sha, path)
                return None
        if not isinstance(record, dict) or not isinstance(record.get("cmd"), (str, list)):
            ctx.warn("datalad", "run record has no command", commit.sha)
            return None
        return record

    def _entity(self, ctx: Context, path: str, entry: TreeEntry) -> Entity:
        entity = git_entity(ctx, path, entry.blob)
        if entry.mode in ("120000", "100644"):  # an annexed file is a symlink to its key
            target = ctx.blobs.read(entry.blob) if entry.mode == "120000" else self._small(ctx, entry)
            if target is not None:
                entity.hashes.update(annex_hashes(target.decode("utf-8", "replace")))
        return entity

    @staticmethod
    def _small(ctx: Context, entry: TreeEntry) -> bytes | None:
        # A regular file is an annex pointer (an unlocked annexed file) only if it is tiny:
        # ask its size first rather than read a data file whole.
        size = entry.size
        if size is None:
            found = ctx.blobs.info(entry.blob)
            size = found[2] if found else None
        if size is None or size >= 512:
            return None
        content = ctx.blobs.read(entry.blob)
        return content if content is not None and b"/annex/objects/" in content else None

    def _inputs(self, ctx: Context, parent: str | None, patterns: list[str]) -> list[Entity]:
        out: list[Entity] = []
        for pattern in patterns:
            matched = self._resolve(ctx, parent, pattern.rstrip("/")) if parent else {}
            if not matched:  # e.g. inside a subdataset: keep the declared path
                out.append(Entity(ctx.iri("entities", "path", pattern), pattern))
            out += [self._entity(ctx, path, entry) for path, entry in sorted(matched.items())]
        return out

    def _resolve(self, ctx: Context, commit: str, pattern: str) -> dict[str, TreeEntry]:
        """Files of `commit` a pattern names: a glob, a directory, or one file."""
        if not any(c in pattern for c in "*?["):
            found = ctx.blobs.info(f"{commit}:{pattern}")
            if found is None:
                return {}
            if found[1] == "blob":  # the mode matters only for annex links, read below
                return {pattern: TreeEntry("100644", found[0], found[2])}
        regex = glob_regex(pattern)
        return {path: e for path, e in tree(ctx.repo, commit).items() if regex.match(path)}

    def commit(self, ctx: Context, commit: Commit, changes: list[Change]) -> None:
        text = _record_text(commit.message)
        if text is None:
            return
        record = self._record(ctx, commit, text)
        if record is None:
            return
        pwd = str(record.get("pwd") or ".")

        def rooted(paths: Any) -> list[str]:
            values = paths if isinstance(paths, list) else [paths] if isinstance(paths, str) else []
            return [posixpath.normpath(posixpath.join(pwd, str(v))) for v in values]

        command = record["cmd"] if isinstance(record["cmd"], str) else " ".join(map(str, record["cmd"]))
        inputs = rooted(record.get("inputs")) + rooted(record.get("extra_inputs"))
        outputs = rooted(record.get("outputs"))
        parent = commit.parents[0] if commit.parents else None
        generated = [
            self._entity(ctx, ch.text, TreeEntry(ch.mode, ch.after))
            for ch in changes
            if not is_zero(ch.after) and not ch.text.startswith(_DEFAULT_RECORD_DIR + "/")
        ]
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
                used=self._inputs(ctx, parent, inputs),
                generated=generated,
                exit_code=exit_code if isinstance(exit_code, int) else None,
                informed_by=[ctx.iri("runs", "datalad", c) for c in chain],
                parameters={
                    "pwd": pwd,
                    **({"dsid": str(record["dsid"])} if record.get("dsid") else {}),
                },
            ),
        )
