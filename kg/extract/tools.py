"""The tool extractors every ingest runs, in order."""

from __future__ import annotations

from kg.extract.base import Extractor
from kg.extract.datalad import DataLad
from kg.extract.dvc import Dvc
from kg.extract.provfiles import ProvFiles
from kg.extract.renku import Renku
from kg.extract.renku_legacy import RenkuLegacy
from kg.extract.rocrate import RoCrate


def tool_extractors(names: str = "all") -> list[Extractor]:
    """Fresh tool extractors (they keep state for one ingest): "all", "none" or a comma list.

    >>> [t.name for t in tool_extractors("dvc, datalad")]
    ['dvc', 'datalad']
    """
    every: list[Extractor] = [Renku(), RenkuLegacy(), Dvc(), DataLad(), RoCrate(), ProvFiles()]
    if names.strip() == "all":
        return every
    wanted = {n.strip() for n in names.split(",") if n.strip() and n.strip() != "none"}
    unknown = wanted - {t.name for t in every}
    if unknown:
        raise ValueError(f"unknown extractors: {sorted(unknown)}")
    return [t for t in every if t.name in wanted]
