"""`kg serve` says where its explorer is, with the port it actually bound (KG_PORT=0: any)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures.servers import kg_env, terminate

LINE = re.compile(r"kg explorer: (http://127\.0\.0\.1:(\d+)/)")


def _wait_for_line(process: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = LINE.search(log.read_text(encoding="utf-8"))
        if found:
            return found
        assert process.poll() is None, log.read_text(encoding="utf-8")[-3000:]
        time.sleep(0.1)
    raise TimeoutError(log.read_text(encoding="utf-8")[-3000:])


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_kg_serve_prints_the_explorer_url_of_the_port_it_bound(tmp_path: Path, log_format: str) -> None:
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "kg", "serve"],
            env=kg_env(tmp_path / "kg", KG_PORT="0", KG_LOG_FORMAT=log_format),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            found = _wait_for_line(process, log)
            url, port = found.group(1), int(found.group(2))
            assert port != 0
            # printed once uvicorn listens: the URL answers at once
            assert httpx.get(url + "health", timeout=10).status_code == 200
        finally:
            terminate(process, grace=20)
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if "kg explorer:" in line]
    assert len(lines) == 1
    if log_format == "json":  # among JSON logs, a JSON line too: a log shipper must parse it
        assert json.loads(lines[0])["msg"] == f"kg explorer: {url}"
    else:
        assert lines[0] == f"kg explorer: {url}"
