"""Where a project's repository is fetched from: decided by kg, never by a webhook payload.

With GitLab configured, the project's path comes from GitLab's API for the project's id and
the repository is `<KG_GITLAB_URL>/<path>.git`. Without it, the payload's URL is used only
if it is http(s) on an allowed origin (`KG_GIT_ALLOWED_ORIGINS`), with no credentials,
query, fragment or `..` in it. Anything else is refused before git runs.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

from kg.errors import InvalidInput
from kg.urls import origin


class LocationRefused(InvalidInput):
    """kg will not fetch from this URL; retrying cannot help."""


def forge_clone_url(gitlab_url: str, slug: str) -> str:
    """The project's repository at GitLab, as GitLab serves it over HTTP(S).

    >>> forge_clone_url("https://gitlab.example/", "group/sub/name")
    'https://gitlab.example/group/sub/name.git'
    """
    return f"{gitlab_url.rstrip('/')}/{quote(slug, safe='/')}.git"


def check_clone_url(url: str, allowed: frozenset[str]) -> str:
    """The URL if kg may fetch from it; `LocationRefused` saying why not otherwise.

    >>> check_clone_url("https://git.example/g/p.git", frozenset({"https://git.example"}))
    'https://git.example/g/p.git'
    >>> check_clone_url("file:///srv/kg/mirrors/3.git", frozenset({"https://git.example"}))
    Traceback (most recent call last):
    ...
    kg.pipeline.location.LocationRefused: clone URL refused: scheme 'file' is not allowed (http, https only)
    """
    if not url:
        raise LocationRefused("no repository URL is known for this project")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise LocationRefused("clone URL refused: it does not parse") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = scheme if scheme.isalnum() else "?"
        raise LocationRefused(f"clone URL refused: scheme {shown!r} is not allowed (http, https only)")
    if parts.username is not None or parts.password is not None:
        raise LocationRefused("clone URL refused: it carries credentials")
    if parts.query or parts.fragment or any(c.isspace() or ord(c) < 32 for c in url):
        raise LocationRefused("clone URL refused: a query, fragment, space or control character")
    if ".." in parts.path.split("/"):
        raise LocationRefused("clone URL refused: '..' in its path")
    if origin(url) not in allowed:
        raise LocationRefused(
            f"clone URL refused: {origin(url)} is not an allowed origin (KG_GIT_ALLOWED_ORIGINS)"
        )
    return urlunsplit(parts._replace(scheme=scheme))  # git's protocol allow-list is lower case
