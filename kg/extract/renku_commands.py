"""Renku >= 1.0: a run's command line as it was run, from its plan and parameter values."""

from __future__ import annotations

from typing import Any


def command_line(plan: dict[str, Any], values: Any) -> str | None:
    """The plan's command with its positioned parameters, each the value the run gave it
    (else its default), as renku builds the argv: prefix and value as one word."""
    if not isinstance(plan.get("command"), str):
        return None
    given = {
        str(v.get("parameter_id")): str(v.get("value"))
        for v in (values if isinstance(values, list) else [])
        if isinstance(v, dict) and v.get("value") is not None
    }
    placed: list[tuple[int, str]] = []
    for key in ("inputs", "outputs", "parameters"):
        for parameter in plan.get(key) or []:
            if not isinstance(parameter, dict) or not isinstance(parameter.get("position"), int):
                continue
            # a run of an older version of the plan names that version's parameter ids
            value = given.get(str(parameter.get("id"))) or _by_tail(given, str(parameter.get("id")))
            if value is None:
                value = "" if parameter.get("default_value") is None else str(parameter["default_value"])
            placed.append((parameter["position"], f"{parameter.get('prefix') or ''}{value}"))
    return " ".join([plan["command"], *(words for _, words in sorted(placed))]).strip()


def _by_tail(given: dict[str, str], parameter_id: str) -> str | None:
    """A value given for the parameter of the same kind and number in another plan version."""
    tail = "/".join(parameter_id.rsplit("/", 2)[-2:])
    return next((v for k, v in given.items() if k.endswith("/" + tail)), None)
