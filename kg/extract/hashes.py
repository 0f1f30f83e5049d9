"""Content hashes, and linking a tool's entity to the git file version with the same content."""

from __future__ import annotations

import hashlib

from kg import iri as mint
from kg.bounded import Exceeded
from kg.extract.context import Context

# Above this, recomputing a tool's hash from the git blob costs more than the link is worth.
MAX_LINK_BYTES = 16 * 1024 * 1024


def git_blob_id(content: bytes) -> str:
    """The id git gives a blob with this content.

    >>> git_blob_id(b"hello\\n")
    'ce013625030ba8dba906f756967f9e9ca394464a'
    """
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def git_version_with(ctx: Context, commit: str, path: str, algorithm: str, digest: str) -> str | None:
    """The git file version at `commit:path` if its content has `digest`, else None."""
    try:
        content = ctx.blobs.read(f"{commit}:{path}", limit=MAX_LINK_BYTES)
    except Exceeded:  # too large to hash for a link: no link, and nothing wrong
        return None
    if content is None:
        return None
    if hashlib.new(algorithm, content).hexdigest() != digest.lower():
        return None
    return mint.file_version(ctx.project, path, git_blob_id(content))
