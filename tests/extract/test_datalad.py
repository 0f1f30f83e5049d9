"""DataLad run records, on a rebuild of AKSoo/repro-paper-hippocampal-volumes' history."""

from __future__ import annotations

import csv
import json
import lzma
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.extract.helpers import extract, rows
from tests.fixtures.gitrepo import GitRepo

RUNS = {
    "8790cb24207f7e0442bf290f277ba8485ea5dd30": "none",
    "e2cba3e19a4ba62c77fc97e773cb420b4d4eecc6": "fast",
    "38b8b031687cba8d70f5c4c96c12762fde689a0b": "figures",
}


def rebuild(real: Path, repo: GitRepo) -> dict[str, str]:
    """Replay the 9 commits: same messages, authors, dates, paths, symlinks and gitlinks."""
    case = real / "datalad-run-records"
    log = case / "git-log"
    changes: dict[str, list[dict[str, str]]] = {}
    with (log / "changes.tsv").open() as f:
        for row in csv.DictReader(f, delimiter="\t"):
            changes.setdefault(row["sha"], []).append(row)
    ours: dict[str, str] = {}
    with (log / "commits.tsv").open() as f:
        for commit in csv.DictReader(f, delimiter="\t"):
            for ch in changes.get(commit["sha"], []):
                path = repo.path / ch["path"]
                if ch["status"] == "D":
                    repo.git("rm", "-q", "--cached", "--", ch["path"])
                    continue
                if ch["new_mode"] == "160000":
                    repo.git(
                        "update-index",
                        "--add",
                        "--cacheinfo",
                        f"160000,{ch['new_object']},{ch['path']}",
                    )
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                if path.is_symlink() or path.exists():
                    path.unlink()
                if ch["new_mode"] == "120000":
                    path.symlink_to(ch["link_target"])
                else:
                    real_file = case / ch["path"]
                    path.write_bytes(
                        real_file.read_bytes() if real_file.is_file() else f"{ch['path']}\n".encode()
                    )
                repo.git("add", "--", ch["path"])
            env = {
                **os.environ,
                "GIT_AUTHOR_NAME": commit["author_name"],
                "GIT_AUTHOR_EMAIL": commit["author_email"],
                "GIT_AUTHOR_DATE": commit["author_date"],
                "GIT_COMMITTER_NAME": commit["committer_name"],
                "GIT_COMMITTER_EMAIL": commit["committer_email"],
                "GIT_COMMITTER_DATE": commit["committer_date"],
            }
            subprocess.run(
                [
                    "git",
                    "-C",
                    str(repo.path),
                    "commit",
                    "-q",
                    "--allow-empty",
                    "--cleanup=verbatim",
                    "-F",
                    str(log / "messages" / f"{commit['sha']}.txt"),
                ],
                env=env,
                check=True,
            )
            ours[commit["sha"]] = repo.head()
    return ours


@pytest.fixture
def replayed(real: Path, git_repo: Callable[[str], GitRepo]) -> tuple[GitRepo, dict[str, str]]:
    repo = git_repo("datalad")
    return repo, rebuild(real, repo)


def test_three_runs_from_records_and_none_from_plain_datalad_commits(
    replayed: tuple[GitRepo, dict[str, str]],
) -> None:
    repo, ours = replayed
    store, warnings = extract(repo.path)
    assert warnings == []
    found = rows(
        store,
        """
        SELECT ?sha ?cmd ?exit ?who WHERE {
          ?run a kg:Run ; kg:tool "datalad" ; kg:inCommit/kg:sha ?sha ; kg:exitCode ?exit ;
               prov:wasAssociatedWith/schema:email ?who ;
               prov:qualifiedAssociation/prov:hadPlan/kg:command ?cmd .
        }""",
    )
    by_sha = {r["sha"]: r for r in found}
    assert set(by_sha) == {ours[s] for s in RUNS}
    assert all(r["exit"] == "0" and r["who"] == "kimsin98@gmail.com" for r in found)
    # the command comes from the JSON record, not from the truncated subject
    fast = by_sha[ours["e2cba3e19a4ba62c77fc97e773cb420b4d4eecc6"]]["cmd"]
    assert fast.endswith("-o derivatives/first/sub-01/fast -m fast -s L_Hipp,R_Hipp")


def pairs(store: object, sha: str) -> set[tuple[str, str]]:
    return {
        (r["i"], r["o"])
        for r in rows(
            store,
            f"""  # type: ignore[arg-type]
            SELECT ?i ?o WHERE {{
              ?run kg:tool "datalad" ; kg:inCommit/kg:sha "{sha}" ; prov:used/prov:atLocation ?i .
              ?out prov:wasGeneratedBy ?run ; prov:atLocation ?o .
            }}""",
        )
    }


def test_inputs_outputs_and_annex_keys(replayed: tuple[GitRepo, dict[str, str]]) -> None:
    repo, ours = replayed
    store, _ = extract(repo.path)
    first = pairs(store, ours["8790cb24207f7e0442bf290f277ba8485ea5dd30"])
    assert ("data/sub-01/anat/sub-01_T1w.nii.gz", "derivatives") in first
    assert (".datalad/environments/fsl/image", "derivatives") in first
    figures = pairs(store, ours["38b8b031687cba8d70f5c4c96c12762fde689a0b"])
    assert {o for _, o in figures} == {
        "figures/sub-01_fsl-fast_hippocampus.png",
        "figures/sub-01_fsl-none_hippocampus.png",
    }
    assert {i for i, _ in figures} == {"derivatives/first/sub-*/*_firstseg.nii.gz"}
    md5 = rows(
        store,
        """SELECT ?md5 WHERE { ?e prov:atLocation "figures/sub-01_fsl-fast_hippocampus.png" ; kg:md5 ?md5 }""",
    )
    assert [r["md5"] for r in md5] == ["afa9fa9719c16af8aec0b28ae57bba02"]
    image = rows(
        store,
        """SELECT ?md5 WHERE { ?e prov:atLocation ".datalad/environments/fsl/image" ; kg:md5 ?md5 }""",
    )
    assert [r["md5"] for r in image] == ["7a6d4ee594a95a568d97b5c8ae683911"]


def _commit_message(repo: GitRepo, message: str, files: dict[str, bytes]) -> str:
    for name, content in files.items():
        (repo.path / name).parent.mkdir(parents=True, exist_ok=True)
        (repo.path / name).write_bytes(content)
    return repo.commit(message=message)


def test_sidecars_chains_globs_and_broken_records(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("sidecar")
    repo.commit({"in/a.csv": "1", "in/b.csv": "2", "in/sub/c.csv": "3"}, "inputs")
    record = {
        "cmd": "python merge.py",
        "inputs": ["in/*.csv"],
        "outputs": ["out.csv"],
        "pwd": ".",
        "exit": 1,
        "chain": [],
    }
    sidecar = lzma.compress(json.dumps(record).encode() + b"\n")
    first = _commit_message(
        repo,
        '[DATALAD RUNCMD] merge\n\n=== Do not change lines below ===\n"abc123"\n^^^ Do not change lines above ^^^\n',
        {".datalad/runinfo/abc123": sidecar, "out.csv": b"merged"},
    )
    rerun = {**record, "chain": [first], "exit": 0}
    second = _commit_message(
        repo,
        "[DATALAD RUNCMD] again\n\n=== Do not change lines below ===\n"
        + json.dumps(rerun)
        + "\n^^^ Do not change lines above ^^^\n",
        {"out.csv": b"merged again"},
    )
    broken = _commit_message(
        repo,
        "[DATALAD RUNCMD] x\n\n=== Do not change lines below ===\n{not json\n^^^ Do not change lines above ^^^\n",
        {"junk": b"x"},
    )
    store, warnings = extract(repo.path)
    assert [(w.commit, "not JSON" in w.reason) for w in warnings] == [(broken, True)]
    assert pairs(store, first) == {("in/a.csv", "out.csv"), ("in/b.csv", "out.csv")}
    chained = rows(store, f"SELECT ?x WHERE {{ ?r kg:inCommit/kg:sha '{second}' ; prov:wasInformedBy ?x }}")
    assert [r["x"] for r in chained] == [f"https://kg.test/projects/group/project/-/runs/datalad/{first}"]
    exits = rows(store, "SELECT ?e WHERE { ?r kg:tool 'datalad' ; kg:exitCode ?e } ORDER BY ?e")
    assert [r["e"] for r in exits] == ["0", "1"]


def test_a_triple_too_long_for_the_store_is_dropped_alone(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("long")
    record = {"cmd": "python x.py", "outputs": ["out.csv"], "chain": ["c" * 3_500_000, "abc"]}
    message = repo.path.parent / "message.txt"  # too long for a command line
    message.write_text(
        "[DATALAD RUNCMD] x\n\n=== Do not change lines below ===\n"
        + json.dumps(record)
        + "\n^^^ Do not change lines above ^^^\n"
    )
    (repo.path / "out.csv").write_text("1")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-F", str(message))
    sha = repo.head()
    store, warnings = extract(repo.path)  # loads the output as ingest does
    assert [(w.commit, w.reason.split(":")[0]) for w in warnings] == [
        (sha, "triple too long for the store dropped")
    ]
    chained = rows(store, "SELECT ?x WHERE { ?r kg:tool 'datalad' ; prov:wasInformedBy ?x }")
    assert [r["x"].rsplit("/", 1)[1] for r in chained] == ["abc"]


def test_the_command_line_as_run_fills_in_the_placeholders(git_repo: Callable[[str], GitRepo]) -> None:
    repo = git_repo("placeholders")
    repo.commit({"in/a.csv": "1", "in/b.csv": "2", "code/merge.py": "m"}, "inputs")
    record = {
        "cmd": "python merge.py {inputs} --out {outputs[0]} --extra {{x}}",
        "inputs": ["../in/*.csv"],
        "extra_inputs": ["merge.py"],
        "outputs": ["../out.csv"],
        "pwd": "code",
    }
    _commit_message(
        repo,
        "[DATALAD RUNCMD] merge\n\n=== Do not change lines below ===\n"
        + json.dumps(record)
        + "\n^^^ Do not change lines above ^^^\n",
        {"out.csv": b"merged"},
    )
    store, warnings = extract(repo.path)
    assert warnings == []
    found = rows(
        store,
        "SELECT ?line ?cmd WHERE { ?r kg:tool 'datalad' ; kg:commandLine ?line ; prov:qualifiedAssociation/prov:hadPlan/kg:command ?cmd }",
    )
    line = "python merge.py ../in/a.csv ../in/b.csv --out ../out.csv --extra {x}"
    assert found == [{"line": line, "cmd": record["cmd"]}]
