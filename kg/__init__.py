"""kg: a provenance knowledge graph for git forges."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # Read from the installed metadata on first use only: importlib.metadata costs ~25 ms
    # of every `kg` command's start, and only the API's version route needs it.
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("kg")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0.0.0"
    globals()["__version__"] = found
    return found
