"""The tool extractors every ingest runs, in order."""

from __future__ import annotations

from kg.extract.base import Extractor
from kg.extract.datalad import DataLad
from kg.extract.dvc import Dvc
from kg.extract.provfiles import ProvFiles
from kg.extract.renku import Renku
from kg.extract.renku_legacy import RenkuLegacy
from kg.extract.rocrate import RoCrate


def tool_extractors() -> list[Extractor]:
    """A fresh set of tool extractors (they may keep state for one ingest)."""
    return [Renku(), RenkuLegacy(), Dvc(), DataLad(), RoCrate(), ProvFiles()]
