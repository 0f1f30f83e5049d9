"""URLs as kg compares and stores them: origins, and no credentials ever kept in one."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def origin(url: str) -> str:
    """`scheme://host[:port]` of a URL, lower-cased, default ports dropped ('' if none).

    Credentials go only to one origin, so scheme, host and port are all compared.

    >>> origin("HTTPS://GitLab.example:443/group/p.git")
    'https://gitlab.example'
    >>> origin("http://127.0.0.1:8929/api/v4")
    'http://127.0.0.1:8929'
    >>> origin("file:///srv/git/p.git")
    ''
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if not scheme or not host:
        return ""
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


def without_credentials(url: str) -> str:
    """The URL with any user or password removed ('' if it does not parse).

    >>> without_credentials("https://oauth2:s3cret@gitlab.example/g/p.git")
    'https://gitlab.example/g/p.git'
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return ""
    if parts.username is None and parts.password is None:
        return url
    if host and ":" in host:
        host = f"[{host}]"
    netloc = (host or "") + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
