"""Lineage as a terminal tree and as a Graphviz picture, from a repository whose first stage
ran at two commits (the table it made was regenerated after a later stage had read it)."""

from __future__ import annotations

from collections.abc import Callable
from xml.etree import ElementTree

from kg.lineage import as_dot, as_tree
from kg.lineage.picture import as_svg
from tests.fixtures.gitrepo import GitRepo
from tests.lineage.conftest import Lineage, dvc_lock, md5

RAW1, RAW2, P1, P2, Q, FIG = "r1\n", "r2\n", "p1\n", "p2\n", "q\n", "fig\n"
STAGES = (
    "stages:\n"
    "  prepare: {cmd: python prepare.py, deps: [raw.csv], outs: [p.csv]}\n"
    "  combine: {cmd: python combine.py, deps: [p.csv], outs: [q.csv]}\n"
    "  plot: {cmd: python plot.py, deps: [p.csv, q.csv], outs: [fig.png]}\n"
)


def two_prepares(repo: GitRepo) -> tuple[str, str]:
    """prepare and combine run; then prepare runs again on new raw data, and plot reads the
    new p.csv and the q.csv combine made from the old one. Returns the two commits."""
    repo.commit({"raw.csv": RAW1}, "start")
    first = repo.commit(
        {
            "dvc.yaml": STAGES,
            "dvc.lock": dvc_lock(
                {
                    "prepare": ("python prepare.py", [("raw.csv", md5(RAW1))], [("p.csv", md5(P1))]),
                    "combine": ("python combine.py", [("p.csv", md5(P1))], [("q.csv", md5(Q))]),
                }
            ),
            "p.csv": P1,
            "q.csv": Q,
        },
        "dvc repro combine",
    )
    second = repo.commit(
        {
            "raw.csv": RAW2,
            "p.csv": P2,
            "fig.png": FIG,
            "dvc.lock": dvc_lock(
                {
                    "prepare": ("python prepare.py", [("raw.csv", md5(RAW2))], [("p.csv", md5(P2))]),
                    "combine": ("python combine.py", [("p.csv", md5(P1))], [("q.csv", md5(Q))]),
                    "plot": (
                        "python plot.py",
                        [("p.csv", md5(P2)), ("q.csv", md5(Q))],
                        [("fig.png", md5(FIG))],
                    ),
                }
            ),
        },
        "new raw data: dvc repro plot",
    )
    return first, second


def test_runs_of_one_stage_at_two_commits_are_told_apart(
    git_repo: Callable[[str], GitRepo], ingested: Callable[[GitRepo], Lineage]
) -> None:
    repo = git_repo("two-prepares")
    first, second = two_prepares(repo)
    doc = ingested(repo)("fig.png", direction="upstream")
    tree = as_tree(doc, "fig.png", "upstream").splitlines()
    assert tree[:2] == [f"fig.png@{second[:7]}", "made from:"]
    assert "used by:" not in tree
    prepares = sorted(line.strip() for line in tree if "⚙ python prepare.py" in line)
    when = {c: repo.git("show", "-s", "--format=%aI", c)[:16].replace("T", " ") for c in (first, second)}
    assert prepares == sorted(f"← ⚙ python prepare.py  ({c[:7]}, {when[c]})" for c in (first, second))
    assert all(line.lstrip().startswith("←") for line in tree[2:])


def test_the_tree_has_a_section_per_direction_with_its_arrow(
    git_repo: Callable[[str], GitRepo], ingested: Callable[[GitRepo], Lineage]
) -> None:
    repo = git_repo("sections")
    _, second = two_prepares(repo)
    ask = ingested(repo)
    tree = as_tree(ask("p.csv"), "p.csv", "both").splitlines()
    used_by = tree.index("used by:")
    assert tree[1] == "made from:" and used_by > 2
    assert all(line.lstrip().startswith("←") for line in tree[2:used_by])
    assert all(line.lstrip().startswith("→") for line in tree[used_by + 1 :])
    assert f"  → ⚙ python plot.py  ({second[:7]}," in "\n".join(tree)
    down = as_tree(ask("fig.png", direction="downstream"), "fig.png", "downstream").splitlines()
    assert down == [f"fig.png@{second[:7]}", "used by:", "  (nothing)"]


def test_the_picture_is_svg_with_every_label_left_to_right(
    git_repo: Callable[[str], GitRepo], ingested: Callable[[GitRepo], Lineage]
) -> None:
    repo = git_repo("picture")
    two_prepares(repo)
    doc = ingested(repo)("fig.png", direction="upstream")
    dot = as_dot(doc, "fig.png")
    assert "rankdir=LR;" in dot and 'shape="box"' in dot and 'shape="note"' in dot
    start = next(line for line in dot.splitlines() if line.startswith('  "fig.png" ['))
    assert "penwidth=" in start  # the start node stands out
    svg = ElementTree.fromstring(as_svg(doc, "fig.png"))
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    texts = {"".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert {n["label"] for n in doc["nodes"]} <= texts
    assert len(doc["nodes"]) == 10  # two versions each of raw.csv, p.csv and prepare
