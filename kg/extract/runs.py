"""The core shape every tool extractor writes: runs, plans and entities.

A tool run (Renku activity, DVC stage run, DataLad run record, RO-Crate action) is a
`prov:Activity` and `kg:Run` with `prov:startedAtTime`, its agents, `prov:used` inputs,
outputs that were `prov:wasGeneratedBy` it, `prov:qualifiedAssociation` to a `prov:Plan`,
and `kg:inCommit` the git commit that recorded it. Entities carry their hashes as literals;
one whose content equals a git file version is `prov:alternateOf` that version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kg import iri as mint
from kg.extract.context import Context
from kg.rdf import iri, literal, triple
from kg.vocab import KG, PROV, RDF_TYPE, RDFS, SCHEMA, XSD

A = iri(RDF_TYPE)
_DT = XSD + "dateTime"


def p(term: str) -> str:
    """An IRI term from a prefixed name (`prov:used`, `kg:Run`, `schema:name`)."""
    prefix, _, local = term.partition(":")
    return iri({"prov": PROV, "kg": KG, "schema": SCHEMA, "rdfs": RDFS}[prefix] + local)


@dataclass
class Entity:
    """A file or directory a tool read or wrote, identified by path and content hash."""

    iri: str
    path: str
    """Relative to the repository root; "" for what is not a file of the repository."""
    hashes: dict[str, str] = field(default_factory=dict)
    directory: bool = False
    git_version: str | None = None
    members: list[Entity] = field(default_factory=list)
    """What a directory held, where the tool listed it (`prov:hadMember`)."""


@dataclass
class Plan:
    """What a tool was asked to do (a stage, a command, a workflow)."""

    iri: str
    name: str
    tool: str
    command: str | None = None
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    derived_from: list[str] = field(default_factory=list)
    description: str | None = None


@dataclass
class Agent:
    """A person (name, e-mail, or an IRI such as an ORCID) or a software agent (IRI, name)."""

    name: str
    email: str = ""
    software_iri: str | None = None
    person_iri: str | None = None


@dataclass
class Run:
    """One execution recorded by a tool."""

    iri: str
    tool: str
    label: str
    started: str | None
    commit: str | None
    ended: str | None = None
    plan: Plan | None = None
    agents: list[Agent] = field(default_factory=list)
    used: list[Entity] = field(default_factory=list)
    generated: list[Entity] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)
    informed_by: list[str] = field(default_factory=list)
    exit_code: int | None = None
    command_line: str | None = None
    """The command line as run: the command with the run's actual argument values and paths
    (`kg:commandLine`; lineage labels a run with it)."""
    recorded_commit: str | None = None
    """The commit the tool's record names when it is not in the history (`kg:recordedCommit`);
    `commit` is then the one that brought the record in."""


def tool_entity(ctx: Context, path: str, algorithm: str, digest: str, **kw: object) -> Entity:
    """An entity keyed by its path and one content hash."""
    return Entity(ctx.iri("entities", algorithm, digest, path), path, {algorithm: digest}, **kw)  # type: ignore[arg-type]


def git_entity(ctx: Context, path: str, blob: str) -> Entity:
    """The git file version itself, used directly when a tool names a blob."""
    return Entity(mint.file_version(ctx.project, path, blob), path, {"blob": blob})


def entity_lines(entity: Entity) -> list[str]:
    """Triples of an entity."""
    s = iri(entity.iri)
    lines = [triple(s, A, p("prov:Entity"))]
    if entity.path:  # a file of the repository; what a tool names elsewhere has no location here
        lines.append(triple(s, p("prov:atLocation"), literal(entity.path)))
    if entity.directory:
        lines.append(triple(s, A, p("prov:Collection")))
    for member in entity.members:
        lines.append(triple(s, p("prov:hadMember"), iri(member.iri)))
        lines += entity_lines(member)
    for algorithm, digest in sorted(entity.hashes.items()):
        lines.append(triple(s, p(f"kg:{algorithm}"), literal(digest)))
    if entity.git_version and entity.git_version != entity.iri:
        lines.append(triple(s, p("prov:alternateOf"), iri(entity.git_version)))
    return lines


def plan_lines(plan: Plan) -> list[str]:
    """Triples of a plan."""
    s = iri(plan.iri)
    lines = [
        triple(s, A, p("prov:Plan")),
        triple(s, A, p("prov:Entity")),
        triple(s, p("schema:name"), literal(plan.name)),
        triple(s, p("kg:tool"), literal(plan.tool)),
    ]
    if plan.command is not None:
        lines.append(triple(s, p("kg:command"), literal(plan.command)))
    if plan.description:
        lines.append(triple(s, p("schema:description"), literal(plan.description)))
    lines += [triple(s, p("kg:input"), literal(x)) for x in plan.inputs]
    lines += [triple(s, p("kg:output"), literal(x)) for x in plan.outputs]
    lines += [triple(s, p("prov:wasDerivedFrom"), iri(x)) for x in plan.derived_from]
    return lines


def agent_term(ctx: Context, agent: Agent, lines: list[str]) -> str:
    """Write an agent and return its term."""
    if agent.software_iri:
        s = iri(agent.software_iri)
        lines += [triple(s, A, p("prov:SoftwareAgent")), triple(s, A, p("prov:Agent"))]
        if agent.name:
            lines.append(triple(s, p("schema:name"), literal(agent.name)))
        return s
    s = iri(agent.person_iri or ctx.minter.person(agent.name, agent.email))
    lines += [
        triple(s, A, p("schema:Person")),
        triple(s, A, p("prov:Person")),
        triple(s, A, p("prov:Agent")),
        triple(s, p("schema:name"), literal(agent.name)),
    ]
    if agent.email:
        lines.append(triple(s, p("schema:email"), literal(agent.email)))
    return s


def write_run(ctx: Context, run: Run) -> None:
    """Write a run with its plan, agents, entities and parameter values."""
    s = iri(run.iri)
    lines = [
        triple(s, A, p("prov:Activity")),
        triple(s, A, p("kg:Run")),
        triple(s, p("kg:tool"), literal(run.tool)),
        triple(s, p("rdfs:label"), literal(run.label)),
    ]
    if run.started:
        lines.append(triple(s, p("prov:startedAtTime"), literal(run.started, _DT)))
    if run.ended:
        lines.append(triple(s, p("prov:endedAtTime"), literal(run.ended, _DT)))
    if run.commit:
        lines.append(triple(s, p("kg:inCommit"), iri(mint.commit(ctx.project, run.commit))))
    if run.command_line:
        lines.append(triple(s, p("kg:commandLine"), literal(run.command_line)))
    if run.recorded_commit:
        lines.append(triple(s, p("kg:recordedCommit"), literal(run.recorded_commit)))
    if run.exit_code is not None:
        lines.append(triple(s, p("kg:exitCode"), literal(str(run.exit_code), XSD + "integer")))
    for agent in run.agents:
        lines.append(triple(s, p("prov:wasAssociatedWith"), agent_term(ctx, agent, lines)))
    if run.plan is not None:
        association = iri(run.iri + "/association")
        lines += [
            triple(s, p("prov:qualifiedAssociation"), association),
            triple(association, A, p("prov:Association")),
            triple(association, p("prov:hadPlan"), iri(run.plan.iri)),
        ]
        if run.agents:
            lines.append(triple(association, p("prov:agent"), agent_term(ctx, run.agents[0], lines)))
        lines += plan_lines(run.plan)
    for used in run.used:
        lines.append(triple(s, p("prov:used"), iri(used.iri)))
        lines += entity_lines(used)
    for made in run.generated:
        lines.append(triple(iri(made.iri), p("prov:wasGeneratedBy"), s))
        lines += entity_lines(made)
    for name, value in sorted(run.parameters.items()):
        pv = iri(f"{run.iri}/parameters/{mint.path_key(name)}")
        lines += [
            triple(s, p("kg:parameter"), pv),
            triple(pv, A, p("schema:PropertyValue")),
            triple(pv, p("schema:name"), literal(name)),
            triple(pv, p("schema:value"), literal(value)),
        ]
    lines += [triple(s, p("prov:wasInformedBy"), iri(x)) for x in run.informed_by]
    ctx.emit(lines)
