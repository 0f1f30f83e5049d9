"""Decoding Renku's (>= 1.0) object database without renku.

Objects live in `.renku/metadata/<oid[:2]>/<oid[2:4]>/<oid>`, as JSON, zstd-compressed for
most types. Nested values are `{"@renku_data_type": T, "@renku_data_value": V}`; a
persistent object elsewhere is `{"@renku_oid": X, "@renku_reference": true}`; a repeated
object is `{"@renku_data_type": "reference", "@renku_data_value": N}`, the N-th object
(not datetime, tuple or enum; not the top level) decoded so far in the file, depth first
over sorted keys.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import zstandard

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
MAX_OBJECT_BYTES = 64 * 1024 * 1024


class CorruptObject(ValueError):
    """The file is not a Renku object."""


def oid_path(object_id: str) -> str:
    """Where the object with this id is stored (`Database.hash_id`: sha3-256 of the id).

    >>> oid_path("/activities/3a9997e85f514902bf55ff5760371671")[:30]
    '.renku/metadata/0c/7b/0c7bfc2d'
    """
    oid = hashlib.sha3_256(object_id.encode()).hexdigest()
    return f".renku/metadata/{oid[:2]}/{oid[2:4]}/{oid}"


def decode(raw: bytes) -> dict[str, Any]:
    """Decode one object file into plain Python values.

    Nested objects become dicts with an `@type` key, datetimes ISO strings, tuples and
    sets lists, and references to persistent objects `{"@type": T, "@oid": X}`.
    """
    if raw[:4] == ZSTD_MAGIC:
        try:
            raw = zstandard.ZstdDecompressor().decompress(raw, max_output_size=MAX_OBJECT_BYTES)
        except zstandard.ZstdError as exc:
            raise CorruptObject(f"zstd: {exc}") from exc
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptObject(f"not JSON: {exc}") from exc
    if not isinstance(data, dict) or "@renku_data_type" not in data:
        raise CorruptObject("no @renku_data_type")
    seen: list[Any] = []
    top = {k: _value(v, seen) for k, v in sorted(data.items()) if not k.startswith("@renku")}
    top["@type"] = data["@renku_data_type"]
    return top


def _value(value: Any, seen: list[Any]) -> Any:
    if isinstance(value, list):
        return [_value(v, seen) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("@renku_data_type")
    if kind is None:
        return {k: _value(v, seen) for k, v in sorted(value.items())}
    if value.get("@renku_reference"):
        return {"@type": kind, "@oid": value.get("@renku_oid")}
    inner = value.get("@renku_data_value")
    if kind == "reference":
        if not isinstance(inner, int) or not 0 <= inner < len(seen):
            raise CorruptObject(f"dangling back-reference {inner!r}")
        return seen[inner]
    if not isinstance(inner, dict):  # datetime, tuple, set, enum: not counted
        return _value(inner, seen)
    obj: dict[str, Any] = {"@type": kind}
    seen.append(obj)  # registered before its children: depth first, pre-order
    obj.update({k: _value(v, seen) for k, v in sorted(inner.items())})
    return obj
