"""Decoding Renku's (>= 1.0) object database without renku.

Objects live in `.renku/metadata/<oid[:2]>/<oid[2:4]>/<oid>`, as JSON, zstd-compressed for
most types. Nested values are `{"@renku_data_type": T, "@renku_data_value": V}`; a
persistent object elsewhere is `{"@renku_oid": X, "@renku_reference": true}`; a repeated
object is `{"@renku_data_type": "reference", "@renku_data_value": N}`, the N-th object
(not datetime, tuple or enum; not the top level) decoded so far in the file, depth first
over sorted keys.

Back-references share objects, so a small file can stand for a structure exponentially
larger (each level referring twice to the one below): every decoded object's expanded
size is tracked, and an object whose expansion exceeds the value bound is refused.
"""

from __future__ import annotations

import hashlib
from typing import Any

from kg.bounded import DOCUMENT, Bounds, decompress_zstd, loads_json
from kg.errors import InvalidInput

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
MAX_OBJECT_BYTES = 64 * 1024 * 1024
"""The most an object file may hold, compressed or inflated."""
_OBJECT = Bounds(max_bytes=MAX_OBJECT_BYTES, max_depth=DOCUMENT.max_depth, max_nodes=DOCUMENT.max_nodes)


class CorruptObject(InvalidInput):
    """The file is not a Renku object (or is over a bound: the message names it)."""


def oid_path(object_id: str) -> str:
    """Where the object with this id is stored (`Database.hash_id`: sha3-256 of the id).

    >>> oid_path("/activities/3a9997e85f514902bf55ff5760371671")[:30]
    '.renku/metadata/0c/7b/0c7bfc2d'
    """
    oid = hashlib.sha3_256(object_id.encode()).hexdigest()
    return f".renku/metadata/{oid[:2]}/{oid[2:4]}/{oid}"


def decode(raw: bytes, bounds: Bounds = _OBJECT) -> dict[str, Any]:
    """Decode one object file into plain Python values.

    Nested objects become dicts with an `@type` key, datetimes ISO strings, tuples and
    sets lists, and references to persistent objects `{"@type": T, "@oid": X}`. Raises
    `CorruptObject` if it is not an object or if, back-references expanded, it holds more
    than `bounds.max_nodes` values.
    """
    try:
        if raw[:4] == ZSTD_MAGIC:
            raw = decompress_zstd(raw, bounds)
        data = loads_json(raw, bounds)
    except InvalidInput as exc:
        raise CorruptObject(str(exc)) from None
    if not isinstance(data, dict) or "@renku_data_type" not in data:
        raise CorruptObject("no @renku_data_type")
    values = _Values(bounds)
    fields = {k: values.decode(v) for k, v in sorted(data.items()) if not k.startswith("@renku")}
    values.check(_total(fields.values()))
    top = {k: v for k, (v, _) in fields.items()}
    top["@type"] = data["@renku_data_type"]
    return top


_Size = tuple[int, int]  # values, characters of strings


def _total(parts: Any) -> _Size:
    """The size of a container holding `parts` (each a (value, size) pair)."""
    values, chars = 1, 0
    for _, (n, c) in parts:
        values, chars = values + n, chars + c
    return values, chars


class _Values:
    """Decodes the values of one file, keeping each object's expanded size (values and string
    characters it stands for, back-references counted in full every time they are used)."""

    def __init__(self, bounds: Bounds) -> None:
        self.bounds = bounds
        self.seen: list[tuple[dict[str, Any], _Size | None]] = []  # None: still being decoded

    def check(self, size: _Size) -> None:
        """Raise `CorruptObject` if `size` is over the bounds."""
        if size[0] > self.bounds.max_nodes:
            raise CorruptObject(f"back-references expand it to more than {self.bounds.max_nodes} values")
        if size[1] > self.bounds.max_bytes:
            raise CorruptObject(f"back-references expand it to more than {self.bounds.max_bytes} characters")

    def _sized(self, value: Any, size: _Size) -> tuple[Any, _Size]:
        self.check(size)
        return value, size

    def decode(self, value: Any) -> tuple[Any, _Size]:
        """The decoded value and its expanded size."""
        if isinstance(value, list):
            items = [self.decode(v) for v in value]
            return self._sized([v for v, _ in items], _total(items))
        if not isinstance(value, dict):
            return value, (1, len(value) if isinstance(value, str) else 0)
        kind = value.get("@renku_data_type")
        if kind is None:
            fields = {k: self.decode(v) for k, v in sorted(value.items())}
            return self._sized({k: v for k, (v, _) in fields.items()}, _total(fields.values()))
        if value.get("@renku_reference"):
            return {"@type": kind, "@oid": value.get("@renku_oid")}, (1, 0)
        inner = value.get("@renku_data_value")
        if kind == "reference":
            if not isinstance(inner, int) or not 0 <= inner < len(self.seen):
                raise CorruptObject(f"dangling back-reference {inner!r}")
            target, size = self.seen[inner]
            if size is None:  # a cycle: the object is still being decoded; no endless structure
                return {"@type": target["@type"]}, (1, 0)
            return self._sized(target, size)
        if not isinstance(inner, dict):  # datetime, tuple, set, enum: not counted
            return self.decode(inner)
        obj: dict[str, Any] = {"@type": kind}
        index = len(self.seen)
        self.seen.append((obj, None))  # registered before its children: depth first, pre-order
        fields = {k: self.decode(v) for k, v in sorted(inner.items())}
        obj.update({k: v for k, (v, _) in fields.items()})
        size = _total(fields.values())
        self.seen[index] = (obj, size)
        return self._sized(obj, size)
