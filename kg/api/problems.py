"""Errors as problem details: the mapping lives in `kg.http.problems`, shared with `webhooks`."""

from kg.http.problems import STATUS, document, install, problem, status_of

__all__ = ["STATUS", "document", "install", "problem", "status_of"]
