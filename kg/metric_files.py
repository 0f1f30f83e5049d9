"""Where the processes of one `kg serve` keep the metrics they share.

Apart from `kg.metrics` because it must run before prometheus-client is imported: the
client chooses between in-memory and file-backed values once, at import.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def share_between_processes(directory: Path) -> None:
    """Make this process and every process it starts afterwards keep their metrics in files
    under `directory`, emptied first: a file left by an older run would count twice."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROCESS_ENV] = str(directory)
