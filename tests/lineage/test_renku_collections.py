"""A Renku activity's Collection output holds its members: a later activity reading a file
inside it is downstream of that activity, and the file's upstream is that activity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fixtures.gitrepo import GitRepo
from tests.fixtures.renku import renku_object, when
from tests.lineage.conftest import Lineage, edges, runs

T = "renku.domain_model."


def entity(path: str, checksum: str, kind: str = "Entity") -> dict[str, Any]:
    value = {"id": f"/entities/{checksum}/{path}", "path": path, "checksum": checksum}
    return {"@renku_data_type": f"{T}entity.{kind}", "@renku_data_value": value}


def activity(uuid: str, at: str, used: list[dict[str, Any]], made: list[dict[str, Any]]) -> tuple[str, str]:
    def qualified(kind: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "@renku_data_type": f"{T}provenance.activity.{kind}",
                "@renku_data_value": {"id": f"/activities/{uuid}/{kind.lower()}s/{n}", "entity": e},
            }
            for n, e in enumerate(entities)
        ]

    return renku_object(
        "provenance.activity.Activity",
        id=f"/activities/{uuid}",
        started_at_time=when(at),
        ended_at_time=when(at),
        agents=[],
        usages=qualified("Usage", used),
        generations=qualified("Generation", made),
    )


def test_a_member_of_a_collection_output_is_connected_to_its_activity(
    git_repo: Callable[[str], GitRepo], ingested: Callable[[GitRepo], Lineage]
) -> None:
    repo = git_repo("renku")
    repo.commit({"in.csv": "i"}, "start")
    repo.commit(
        dict(
            [
                activity(
                    "a1",
                    "2024-01-01T10:00:00+00:00",
                    [entity("in.csv", "1" * 40)],
                    [entity("out", "2" * 40, "Collection")],
                )
            ]
        ),
        "renku run split",
    )
    repo.commit(
        dict(
            [
                activity(
                    "a2",
                    "2024-01-01T11:00:00+00:00",
                    [entity("out/part.csv", "3" * 40)],
                    [entity("summary.txt", "4" * 40)],
                )
            ]
        ),
        "renku run summarise",
    )
    ask = ingested(repo)
    up = ask("summary.txt", direction="upstream")
    ids = {i.rsplit("/", 1)[-1] for i in runs(up)}
    assert ids == {"a1", "a2"}
    assert any(source.startswith("out/part.csv@") and target == "renku run" for source, target in edges(up))
    down = ask("out", direction="downstream")
    assert {i.rsplit("/", 1)[-1] for i in runs(down)} == {"a2"}
    assert [n["type"] for n in down["nodes"] if n["location"] == "out"] == ["Directory"]
