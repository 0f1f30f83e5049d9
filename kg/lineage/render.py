"""Lineage documents as text: an indented tree for terminals, Graphviz for pictures."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

_SHAPES = {"ProcessRun": "box", "Directory": "folder", "File": "note"}
_FILLS = {"ProcessRun": "#dbe8f7", "Directory": "#f3ecd9", "File": "#eef3e6"}
_DETAILS = ("commit", "time", "agent", "tool")
"""The kg fields of a node shown on hover (its tooltip)."""


MAX_INDENT = 32
"""Deeper levels of a tree are not indented further (a chain of 10,000 runs would print
gigabytes of spaces) but numbered."""


def as_tree(document: dict[str, Any], root: str, direction: str = "both") -> str:
    """An indented text tree: what the node `root` was made from (upstream, `←`) and what it
    was used by (downstream, `→`), a section each. A run's line ends with its commit and
    time, telling apart runs of one stage at different commits. What was shown in full
    once is later only named, so a tree is never bigger than its graph."""
    nodes = {n["id"]: n for n in document["nodes"]}
    parents: dict[str, list[str]] = defaultdict(list)
    children: dict[str, list[str]] = defaultdict(list)
    for edge in document["edges"]:
        parents[edge["target"]].append(edge["source"])
        children[edge["source"]].append(edge["target"])
    lines = [_line(nodes[root]) if root in nodes else root]
    if direction in ("upstream", "both"):
        lines += ["made from:", *_branches(nodes, parents, root, "←")]
    if direction in ("downstream", "both"):
        lines += ["used by:", *_branches(nodes, children, root, "→")]
    return "\n".join(lines)


def _branches(nodes: dict[str, Any], links: dict[str, list[str]], root: str, arrow: str) -> list[str]:
    """The lines below `root` following `links`, depth first (a stack: chains are long)."""
    lines: list[str] = []
    shown = {root}
    todo = [(nxt, 1) for nxt in sorted(links.get(root, []), reverse=True)]
    while todo:
        node, level = todo.pop()
        indent = "  " * min(level, MAX_INDENT) + (f"[{level}] " if level > MAX_INDENT else "")
        again = node in shown and bool(links.get(node))
        lines.append(
            f"{indent}{arrow} {_line(nodes[node]) if node in nodes else node}" + (" …" if again else "")
        )
        if not again:
            shown.add(node)
            todo += [(nxt, level + 1) for nxt in sorted(links.get(node, []), reverse=True)]
    return lines or ["  (nothing)"]


def _line(node: dict[str, Any]) -> str:
    """A node as a line: a run's command with its commit and time; where it is from."""
    text: str = node["label"]
    if node["type"] == "ProcessRun":
        when = [node["commit"][:7]] if "commit" in node else []
        when += [node["time"][:16].replace("T", " ")] if "time" in node else []
        text = f"⚙ {text}" + (f"  ({', '.join(when)})" if when else "")
    return text + (f" [{node['project']}]" if "project" in node else "")


def as_dot(document: dict[str, Any], root: str | None = None) -> str:
    """Graphviz, left to right (inputs → runs → outputs): runs as boxes, files as notes,
    folders as folders; another project's nodes dashed and named; the node `root` bold."""
    out = [
        "digraph lineage {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=11, style=filled];',
        '  edge [color="#555555"];',
    ]
    for n in document["nodes"]:
        label = n["label"] + (f"\n[{n['project']}]" if "project" in n else "")
        attributes = {
            "shape": _SHAPES.get(n["type"], "ellipse"),
            "label": label,
            "fillcolor": _FILLS.get(n["type"], "white"),
            "tooltip": _tooltip(n),
        }
        if "project" in n:
            attributes["style"] = "filled,dashed"
        if n["id"] == root:
            attributes.update(penwidth="3", color="#c2410c", fillcolor="#fde68a")
        listed = ", ".join(f"{key}={_dot(value)}" for key, value in attributes.items())
        out.append(f"  {_dot(n['id'])} [{listed}];")
    for e in document["edges"]:
        out.append(f"  {_dot(e['source'])} -> {_dot(e['target'])};")
    out.append("}")
    return "\n".join(out)


def _tooltip(node: dict[str, Any]) -> str:
    shown = [node["label"], *(f"{key}: {node[key]}" for key in _DETAILS if key in node)]
    if "project" in node:
        shown.append(f"project: {node['project']}")
    return "\n".join(shown)


def _dot(text: str) -> str:
    """A quoted DOT string; a newline is DOT's centred line break."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
