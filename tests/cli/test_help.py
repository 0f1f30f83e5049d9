"""`kg --help` and every subcommand's help read well: a summary line each, every argument
and option explained, defaults shown, values named in words (no `<list[str]>`)."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from kg.cli import app

GROUP = typer.main.get_command(app)
NAMES = GROUP.list_commands(typer.Context(GROUP))  # type: ignore[attr-defined]


def _help(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result.stdout


def _no_placeholders(text: str) -> None:
    assert "list[" not in text and not re.search(r"<[\w\[\], ]+>", text), text
    assert not re.search(r"\{\w+\}", text), text  # typer's {arg} in the usage line


def test_the_top_level_help_lists_every_command_on_one_line() -> None:
    text = _help()
    _no_placeholders(text)
    assert len(NAMES) >= 13
    for name in NAMES:
        (line,) = [line for line in text.splitlines() if re.match(rf"│ {re.escape(name)} +\S", line)]
        summary = line.strip("│ ").removeprefix(name).strip()
        assert summary.endswith((".", ")")), line  # one whole sentence, not cut at a wrap


@pytest.mark.parametrize("name", NAMES)
def test_each_command_explains_every_argument_and_option(name: str) -> None:
    text = _help(name)
    _no_placeholders(text)
    command = GROUP.get_command(typer.Context(GROUP), name)  # type: ignore[attr-defined]
    for param in command.params:
        assert getattr(param, "help", None), f"kg {name}: {param.name} has no help"
        shown = param.name.upper() if param.param_type_name == "argument" else param.opts[0]
        assert shown in text, f"kg {name}: {shown} missing"


def test_defaults_are_shown() -> None:
    lineage = _help("lineage")
    for default in ("[default: both]", "[default: tree]", "[default: (all)]", "[default: (stdout)]"):
        assert default in lineage
    assert " lineage [OPTIONS] PROJECT PATH" in lineage
    ingest = _help("ingest")
    assert "[default: (HEAD)]" in ingest and "--member" in ingest and "TEXT" in ingest
    assert "[default: (KG_PORT)]" in _help("serve")
