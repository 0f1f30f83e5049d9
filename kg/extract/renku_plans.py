"""Renku 0.x plans as kg writes every tool's plans: `kg:command`, `schema:name`, `kg:tool`,
and each run's command line as run (`kg:commandLine`).

A 0.x plan belongs to one run: its parameters (`renku:hasInputs`, `hasOutputs`,
`hasArguments`) carry their position on the command line, a prefix, and for inputs and outputs
the entity the run actually consumed or produced, whose `prov:atLocation` is the actual path.
Parameters without a position (outputs renku found on disk) are not on the command line.
"""

from __future__ import annotations

from collections import defaultdict

import pyoxigraph as ox

from kg.vocab import KG, PROV, RDF_TYPE, SCHEMA

RENKU = "https://swissdatasciencecenter.github.io/renku-ontology#"
_PARAMETERS = (RENKU + "hasInputs", RENKU + "hasOutputs", RENKU + "hasArguments")
_VALUES = (RENKU + "consumes", RENKU + "produces")
_MAX_NAME = 80

Term = ox.NamedNode | ox.BlankNode | ox.Triple | ox.Literal


def _index(triples: list[ox.Triple]) -> dict[tuple[Term, str], list[Term]]:
    found: dict[tuple[Term, str], list[Term]] = defaultdict(list)
    for t in triples:
        found[(t.subject, t.predicate.value)].append(t.object)
    return found


def _text(values: list[Term]) -> str | None:
    return next((v.value for v in values if isinstance(v, ox.Literal)), None)


def _argument(at: dict[tuple[Term, str], list[Term]], parameter: Term) -> tuple[int, str] | None:
    """(position, words) of one parameter on the command line; None if it has no position."""
    position = _text(at[(parameter, RENKU + "position")])
    if position is None or not position.lstrip("-").isdigit():
        return None
    value = None
    for entity in (e for key in _VALUES for e in at[(parameter, key)]):
        value = value or _text(at[(entity, PROV + "atLocation")])
    value = value or _text(at[(parameter, SCHEMA + "defaultValue")]) or ""
    prefix = _text(at[(parameter, RENKU + "prefix")]) or ""
    # renku writes a prefix and its value as one word; a prefix ending in a space makes two
    return int(position), f"{prefix}{value}"


def command_line(at: dict[tuple[Term, str], list[Term]], plan: Term) -> str | None:
    """The plan's command followed by its positioned parameters, with the run's values."""
    command = _text(at[(plan, RENKU + "command")])
    if command is None:
        return None
    placed = [a for key in _PARAMETERS for p in at[(plan, key)] if (a := _argument(at, p)) is not None]
    return " ".join([command, *(words for _, words in sorted(placed))]).strip()


def plan_terms(triples: list[ox.Triple]) -> list[ox.Triple]:
    """kg's plan terms for the document's Renku plans, and command lines for their runs."""
    at = _index(triples)
    plans = [
        t.subject
        for t in triples
        if t.predicate.value == RDF_TYPE and t.object == ox.NamedNode(PROV + "Plan")
    ]
    lines: dict[Term, str] = {}
    extra: list[ox.Triple] = []
    for plan in plans:
        line = command_line(at, plan)
        command = _text(at[(plan, RENKU + "command")])
        if line is None or command is None or isinstance(plan, ox.Literal):
            continue
        lines[plan] = line
        extra += [
            ox.Triple(plan, ox.NamedNode(KG + "command"), ox.Literal(command)),
            ox.Triple(plan, ox.NamedNode(KG + "tool"), ox.Literal("renku")),
        ]
        if not at[(plan, SCHEMA + "name")]:
            name = line if len(line) <= _MAX_NAME else line[: _MAX_NAME - 3] + "..."
            extra.append(ox.Triple(plan, ox.NamedNode(SCHEMA + "name"), ox.Literal(name)))
    runs: dict[Term, list[Term]] = defaultdict(list)  # association -> the runs it qualifies
    for t in triples:
        if t.predicate.value == PROV + "qualifiedAssociation":
            runs[t.object].append(t.subject)
    for t in triples:
        if t.predicate.value == PROV + "hadPlan" and t.object in lines:
            said = ox.Literal(lines[t.object])
            extra += [ox.Triple(run, ox.NamedNode(KG + "commandLine"), said) for run in runs[t.subject]]  # type: ignore[arg-type]
    return extra
