"""Lineage documents as text: an indented tree for terminals, Graphviz for pictures."""

from __future__ import annotations

from collections import defaultdict
from typing import Any


def as_tree(document: dict[str, Any], root: str) -> str:
    """An indented text tree: what each node came from (upstream) and led to (downstream)."""
    nodes = {n["id"]: n for n in document["nodes"]}
    parents: dict[str, list[str]] = defaultdict(list)
    children: dict[str, list[str]] = defaultdict(list)
    for edge in document["edges"]:
        parents[edge["target"]].append(edge["source"])
        children[edge["source"]].append(edge["target"])

    def name(node: str) -> str:
        n = nodes[node]
        where = f" [{n['project']}]" if "project" in n else ""
        return (f"⚙ {n['label']}" if n["type"] == "ProcessRun" else n["label"]) + where

    lines = [name(root) if root in nodes else root]

    def walk(node: str, links: dict[str, list[str]], arrow: str, indent: int, seen: set[str]) -> None:
        for nxt in sorted(links.get(node, [])):
            lines.append("  " * indent + f"{arrow} {name(nxt)}")
            if nxt not in seen:
                walk(nxt, links, arrow, indent + 1, seen | {nxt})

    walk(root, parents, "←", 1, {root})
    walk(root, children, "→", 1, {root})
    return "\n".join(lines)


def as_dot(document: dict[str, Any]) -> str:
    """Graphviz: files as notes, folders as folders, runs as boxes."""
    out = ["digraph lineage {", "  rankdir=LR;"]
    for n in document["nodes"]:
        shape = "box" if n["type"] == "ProcessRun" else "folder" if n["type"] == "Directory" else "note"
        label = n["label"] + (f" [{n['project']}]" if "project" in n else "")
        out.append(f"  {_dot(n['id'])} [shape={shape}, label={_dot(label)}];")
    for e in document["edges"]:
        out.append(f"  {_dot(e['source'])} -> {_dot(e['target'])};")
    out.append("}")
    return "\n".join(out)


def _dot(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
