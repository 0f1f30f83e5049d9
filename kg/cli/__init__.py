"""The `kg` command line: one module per family of commands, all on one Typer app."""

# ruff: noqa: I001  (the order commands register in is the order `kg --help` lists them)
from kg.cli import ingest, roles, reading, admin
from kg.cli.common import app

__all__ = ["admin", "app", "ingest", "reading", "roles"]
