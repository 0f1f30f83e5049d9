"""The helm fixture: the real binary `make helm` fetches; a clear failure, not a skip, without it."""

from __future__ import annotations

import pytest

from tests.charts.rendering import HELM, ROOT, Helm


@pytest.fixture(scope="session")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    if not HELM.is_file():
        pytest.fail(f"no helm at {HELM.relative_to(ROOT)}: run `make helm` (`make test` does it first)")
    return Helm(HELM, tmp_path_factory.mktemp("helm"))
