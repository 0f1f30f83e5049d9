"""Settings and start-up, from outside: every mistake is one line naming the variable, never
a traceback, found before serving; one kg serve per data directory; a taken port is named."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.servers import KgServer, kg_env


def serve(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`kg serve` that is expected to refuse to start."""
    return subprocess.run(
        [sys.executable, "-m", "kg", "serve", *args],
        env=kg_env(data, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("KG_PORT", "abc", "valid integer"),
        ("KG_PORT", "70000", "less than or equal to 65535"),
        ("KG_LOG_LEVEL", "LOUD", "'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'"),
        ("KG_STORE_URL", "bogus://x", "oxigraph:///path"),
        ("KG_EVENT_LOG_URL", "mysql://x", "or postgresql://user:password@host:port/database"),
        ("KG_EXTRACTORS", "bogus", "unknown extractors: ['bogus']"),
        ("KG_SPARQL_WORKERS", "0", "greater than or equal to 1"),
        ("KG_GIT_ALLOWED_ORIGINS", "file:///srv", "is not an origin"),
        ("KG_GIT_TOKEN", "glpat-x", "set KG_GITLAB_URL"),
        ("KG_SPARQL_MAX_MEMORY_MB", "1", "greater than or equal to 128"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(tmp_path: Path, variable: str, value: str, says: str) -> None:
    done = serve(tmp_path / "kg", **{variable: value})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {variable}")
    assert says in lines[0]
    assert "Traceback" not in done.stderr


def test_the_data_dir_must_be_a_directory(tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x")
    done = serve(a_file)
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: KG_DATA_DIR='{a_file}': exists and is not a directory"


@pytest.mark.parametrize(
    ("secret", "says"),
    [
        (None, "KG_HOOK_SECRET must be set outside development"),
        ("", "at least 32 characters"),
        ("short-secret", "at least 32 characters"),
    ],
)
def test_production_refuses_a_weak_hook_secret(tmp_path: Path, secret: str | None, says: str) -> None:
    env = {"KG_ENVIRONMENT": "production", "KG_TOKEN_KEY": "p" * 43 + "="}
    env = kg_env(tmp_path, **env)
    env.pop("KG_HOOK_SECRET")
    if secret is not None:
        env["KG_HOOK_SECRET"] = secret
    done = subprocess.run(
        [sys.executable, "-m", "kg", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert says in done.stderr and "Traceback" not in done.stderr


def test_a_taken_port_is_named_with_the_way_out(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve(tmp_path / "kg", "--port", str(port))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: port {port} on 127.0.0.1 is already in use; choose another with --port (or KG_PORT)"
    )


def test_a_second_kg_serve_on_the_same_data_dir_refuses_to_start(tmp_path: Path) -> None:
    first = KgServer(tmp_path / "kg")
    try:
        done = serve(tmp_path / "kg")
        assert done.returncode == 2
        assert f"another kg serve (pid {first.process.pid})" in done.stderr
        assert "Traceback" not in done.stderr
        assert first.process.poll() is None  # the first one serves on
        # another data directory naming the same store is refused too
        other = serve(tmp_path / "other", KG_STORE_URL=f"oxigraph://{tmp_path / 'kg' / 'store'}")
        assert other.returncode == 2
        assert f"is using the store {tmp_path / 'kg' / 'store'}; stop it or set KG_STORE_URL" in other.stderr
    finally:
        first.stop()
    # once it has stopped, the directory is free again
    again = KgServer(tmp_path / "kg")
    again.stop()
