"""`kg --help` as click writes it: a value is named by a word (TEXT, INTEGER, PATH), never
by typer's `<list[str]>`-style Python type, and an argument by its name in capitals."""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


class _Argument(TyperArgument):
    """An argument shown by its name alone (`SOURCE`), its type left to its help text."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw + ("..." if self.nargs != 1 else "")
        return name if self.required else f"[{name}]"


def _plain(param: object) -> None:
    """Name the value `param` takes the click way (typer's help would print `<int>`)."""
    if isinstance(param, TyperOption):
        if param.is_flag or param.count:
            param.metavar = ""  # a flag takes no value: nothing to name
        elif param.metavar is None:
            param.metavar = _value_word(param)
    elif isinstance(param, TyperArgument) and not isinstance(param, _Argument):
        param.metavar = param.metavar or (param.name or "value").upper()
        # typer has no hook for how an argument's type shows; the subclass only overrides
        # how it is displayed, so swapping the class of the instance keeps its state intact
        param.__class__ = _Argument


def _value_word(option: TyperOption) -> str:
    """TEXT, INTEGER, NUMBER or PATH: what one value of `option` is (a list: each item)."""
    if option.type_descriptor.is_path:
        return "PATH"
    item = option.bare_type().removeprefix("list[").removesuffix("]")
    return {"int": "INTEGER", "float": "NUMBER"}.get(item, "TEXT")


class KgCommand(TyperCommand):
    """A command whose help names values click's way."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        for param in self.get_params(ctx):
            _plain(param)
        super().format_help(ctx, formatter)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        for param in self.get_params(ctx):
            _plain(param)
        return list(super().collect_usage_pieces(ctx))


class KgGroup(TyperGroup):
    """The `kg` group: its own help names values click's way too."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        for param in self.get_params(ctx):
            _plain(param)
        super().format_help(ctx, formatter)
