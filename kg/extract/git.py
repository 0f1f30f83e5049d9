"""Git history as PROV: commits are activities, file versions are entities.

One streaming `git log --raw -z` is parsed for the whole range, because per-commit object
access (GitPython's diffs) is orders of magnitude slower. Each commit's triples depend only
on that commit's own log record (its raw diff names the blobs before and after), so
extracting a range of new commits yields exactly the triples a full extraction would add.
"""

from __future__ import annotations

from kg import iri as mint
from kg.extract.context import Context
from kg.extract.log import Change, Commit, is_zero
from kg.extract.runs import Agent, agent_term
from kg.rdf import iri, literal, triple
from kg.vocab import KG, PROV, RDF_TYPE, RDFS, SCHEMA, XSD

_A = iri(RDF_TYPE)
_ACTIVITY = iri(PROV + "Activity")
_ENTITY = iri(PROV + "Entity")
_COMMIT = iri(KG + "Commit")
_FILE_VERSION = iri(KG + "FileVersion")
_SHA_P = iri(KG + "sha")
_MESSAGE = iri(KG + "message")
_LABEL = iri(RDFS + "label")
_STARTED = iri(PROV + "startedAtTime")
_ENDED = iri(PROV + "endedAtTime")
_ASSOCIATED = iri(PROV + "wasAssociatedWith")
_AUTHOR = iri(KG + "author")
_COMMITTER = iri(KG + "committer")
_INFORMED_BY = iri(PROV + "wasInformedBy")
_PART_OF = iri(SCHEMA + "isPartOf")
_LOCATION = iri(PROV + "atLocation")
_BLOB = iri(KG + "blob")
_GENERATED_BY = iri(PROV + "wasGeneratedBy")
_GENERATED_AT = iri(PROV + "generatedAtTime")
_INVALIDATED_BY = iri(PROV + "wasInvalidatedBy")
_INVALIDATED_AT = iri(PROV + "invalidatedAtTime")
_REVISION_OF = iri(PROV + "wasRevisionOf")
_DERIVED_FROM = iri(PROV + "wasDerivedFrom")
_DATETIME = XSD + "dateTime"


class GitHistory:
    """Writes a project's git history as N-Triples."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._minter = ctx.minter
        self._project = ctx.project
        self._project_term = iri(ctx.project)
        self._people: set[str] = set()

    def _emit(self, lines: list[str]) -> None:
        self._ctx.emit(lines)

    def _person(self, name: str, email: str, lines: list[str]) -> str:
        # Written once per spelling per ingest, not once per commit.
        key = f"{name}\0{email}"
        if key in self._people:
            return iri(self._minter.person(name, email))
        self._people.add(key)
        return agent_term(self._ctx, Agent(name, email), lines)

    def add_commit(self, c: Commit) -> str:
        """Emit a commit's own triples; returns its term for its changes."""
        term = iri(mint.commit(self._project, c.sha))
        lines = [
            triple(term, _A, _ACTIVITY),
            triple(term, _A, _COMMIT),
            triple(term, _PART_OF, self._project_term),
            triple(term, _SHA_P, literal(c.sha)),
            triple(term, _MESSAGE, literal(c.message)),
            triple(term, _LABEL, literal(c.message.split("\n", 1)[0])),
            triple(term, _STARTED, literal(c.authored, _DATETIME)),
            triple(term, _ENDED, literal(c.committed, _DATETIME)),
        ]
        author = self._person(c.author_name, c.author_email, lines)
        committer = self._person(c.committer_name, c.committer_email, lines)
        lines.append(triple(term, _AUTHOR, author))
        lines.append(triple(term, _COMMITTER, committer))
        lines.append(triple(term, _ASSOCIATED, author))
        if committer != author:
            lines.append(triple(term, _ASSOCIATED, committer))
        for parent in c.parents:
            lines.append(triple(term, _INFORMED_BY, iri(mint.commit(self._project, parent))))
        self._emit(lines)
        self._ctx.stats.commits += 1
        return term

    def add_change(self, commit: Commit, commit_term: str, ch: Change) -> None:
        """Emit the entities a change generated and invalidated."""
        lines: list[str] = []
        when = literal(commit.committed, _DATETIME)
        old_path = ch.source if ch.source is not None else ch.path
        previous = [
            iri(mint.file_version(self._project, old_path, blob)) for blob in ch.before if not is_zero(blob)
        ]
        if ch.removes_previous:
            for old in previous:
                lines.append(triple(old, _INVALIDATED_BY, commit_term))
                lines.append(triple(old, _INVALIDATED_AT, when))
        if not is_zero(ch.after):
            new = iri(mint.file_version(self._project, ch.path, ch.after))
            lines += [
                triple(new, _A, _ENTITY),
                triple(new, _A, _FILE_VERSION),
                triple(new, _LOCATION, literal(ch.text)),
                triple(new, _BLOB, literal(ch.after)),
                triple(new, _GENERATED_BY, commit_term),
                triple(new, _GENERATED_AT, when),
            ]
            link = _DERIVED_FROM if ch.status == "C" else _REVISION_OF
            lines.extend(triple(new, link, old) for old in previous)
        self._emit(lines)
