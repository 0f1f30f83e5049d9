"""Recent views: per user, newest first, one row per entity, bounded."""

from __future__ import annotations

from pathlib import Path

from kg.api.viewed import KEEP, RecentViews


def test_views_are_per_user_newest_first_and_bounded(tmp_path: Path) -> None:
    views = RecentViews(tmp_path / "viewed.sqlite")
    views.saw("1", "project", "g/a")
    views.saw("1", "dataset", "d1")
    views.saw("1", "project", "g/b")
    views.saw("1", "project", "g/a")  # seen again: first, and once
    views.saw("2", "project", "g/z")
    assert views.newest("1", {"project", "dataset"}, 10) == [
        ("project", "g/a"),
        ("project", "g/b"),
        ("dataset", "d1"),
    ]
    assert views.newest("1", {"dataset"}, 10) == [("dataset", "d1")]
    assert views.newest("2", {"project"}, 10) == [("project", "g/z")]
    for n in range(KEEP + 50):
        views.saw("1", "dataset", f"many{n}")
    kept = views.newest("1", {"project", "dataset"}, 10_000)
    assert len(kept) == KEEP
    assert kept[0] == ("dataset", f"many{KEEP + 49}")
    views.forget("project", "g/z")
    assert views.newest("2", {"project"}, 10) == []
    views.close()
