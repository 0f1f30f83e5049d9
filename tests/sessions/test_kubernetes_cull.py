"""The scheduler's culling job deletes the `pod` kind's sessions past their max age (read
from the API server's creationTimestamp), against kmock."""

from __future__ import annotations

from pathlib import Path

from kg.scheduler.jobs import Upkeep, intervals
from tests.sessions import test_kubernetes as kube
from tests.sessions.test_kubernetes import PLURAL, SECRETS, FakeApi, settings_for, spec, with_backend

fake_api = kube.fake_api  # kmock serving in a thread, as in test_kubernetes


def test_sessions_older_than_the_max_age_are_deleted_with_their_secret(
    tmp_path: Path, fake_api: FakeApi
) -> None:
    settings = settings_for(tmp_path, fake_api.url, "pod", sessions_max_age_seconds=3600)
    old = with_backend(settings, lambda b: b.start(spec(commit_sha="b" * 40)))
    young = with_backend(settings, lambda b: b.start(spec()))
    fake_api.merge(f"{PLURAL['pod']}/{old.name}", {"metadata": {"creationTimestamp": "2020-01-01T00:00:00Z"}})

    upkeep = Upkeep(settings)
    try:
        assert upkeep.cull_sessions() == [old.name]
        assert upkeep.cull_sessions() == []  # nothing left past its age
    finally:
        upkeep.close()
    assert with_backend(settings, lambda b: b.get(old.name)) is None
    assert fake_api.get(f"{SECRETS}/{old.name}-git").status_code == 404
    assert with_backend(settings, lambda b: b.get(young.name)) is not None
    assert "cull_sessions" in intervals(settings)


def test_amalthea_kinds_are_left_to_their_operator(tmp_path: Path, fake_api: FakeApi) -> None:
    settings = settings_for(tmp_path, fake_api.url, "amaltheasession", sessions_max_age_seconds=3600)
    session = with_backend(settings, lambda b: b.start(spec()))
    fake_api.merge(
        f"{PLURAL['amaltheasession']}/{session.name}",
        {"metadata": {"creationTimestamp": "2020-01-01T00:00:00Z"}},
    )
    upkeep = Upkeep(settings)
    try:
        assert upkeep.cull_sessions() == []
    finally:
        upkeep.close()
    assert with_backend(settings, lambda b: b.get(session.name)) is not None
