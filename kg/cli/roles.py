"""The commands that run kg: `kg serve` (everything) and one role each (`kg api`, `kg webhooks`,
`kg worker`, `kg scheduler`)."""

from __future__ import annotations

import gc
import logging
import socket
import sys
from typing import Annotated, Any

import typer
from rich.markup import escape

from kg import logs
from kg.cli.common import command, console, fail, settings_or_exit
from kg.config import Settings
from kg.errors import KgError
from kg.roles import Role, check_fleet


def _check_role(role: Role, settings: Settings, concurrency: int = 1) -> None:
    """Print the role's fleet warnings; exit 2 on an error (one line each)."""
    found = check_fleet(role, settings, concurrency)
    for line in found.warnings:  # a log line: in JSON mode a plain one would break parsing
        logging.getLogger("kg").warning(line, extra={"role": role})
    for line in found.errors:
        console.print(f"[red]error:[/red] {escape(line)}")
    if found.errors:
        raise typer.Exit(2)


def explorer_url(host: str, port: int) -> str:
    """Where a browser on this machine finds the explorer kg serves on `host:port`.

    >>> explorer_url("0.0.0.0", 8080), explorer_url("::", 0), explorer_url("kg.example", 80)
    ('http://127.0.0.1:8080/', 'http://[::1]:0/', 'http://kg.example:80/')
    """
    shown = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"


def _say_where(settings: Settings, line: str) -> None:
    """A plain line for a person (a terminal, or console logs); among JSON logs read by a
    machine, a log line saying the same."""
    if settings.log_format == "console" or console.is_terminal:
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    else:
        logs.announce(line)


def _serve_http(
    settings: Settings, asgi: Any, host: str, sock: socket.socket, what: str, explorer: bool = False
) -> None:
    """Serve `asgi` on `sock` with uvicorn until SIGTERM or SIGINT; with `explorer`, say on
    stderr where to open it once it answers (the port bound: KG_PORT=0 picks a free one)."""
    import uvicorn

    port = sock.getsockname()[1]

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started and explorer:  # not started: it failed and says why itself
                _say_where(settings, f"kg explorer: {explorer_url(host, port)}")

    from kg.startup import raise_open_file_limit

    raise_open_file_limit()
    # The group-commit thread must get the GIL soon after its fsync returns, or every
    # waiting webhook pays up to the default 5 ms switch interval.
    sys.setswitchinterval(0.0005)
    # A search builds ~10,000 small tuples; with the default thresholds the collector then
    # walks the whole heap often enough to double a search's p95 (measured 48 -> 30 ms).
    # What exists at start lives forever: freeze it out of the collector's sight.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    logs.announce(f"{what} on http://{host}:{port}", data_dir=str(settings.data_dir))
    config = uvicorn.Config(
        asgi,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    Server(config).run(sockets=[sock])


def _listen(settings: Settings, host: str | None, port: int | None) -> tuple[str, int, socket.socket]:
    from kg.startup import listen

    host, port = host or settings.host, port if port is not None else settings.port
    try:
        return host, port, listen(host, port)
    except KgError as exc:
        raise fail(exc, 2) from None


@command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.", show_default="KG_HOST")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (0: any free one).", show_default="KG_PORT")
    ] = None,
) -> None:
    """Run the API, webhook receiver, worker and scheduler in one process."""
    from kg.metric_files import share_between_processes
    from kg.startup import prepare_data_dir

    settings = settings_or_exit("settings")
    try:
        locks = prepare_data_dir(settings.data_dir, settings.store_path if settings.embedded_store else None)
    except KgError as exc:
        raise fail(exc, 2) from None
    try:
        share_between_processes(settings.data_dir / "metrics")  # the worker's jobs show at /metrics
        from kg.api.app import create_app  # after share_between_processes: it imports prometheus-client

        host, _, sock = _listen(settings, host, port)
        _serve_http(settings, create_app(settings), host, sock, "kg serving", explorer=True)
    finally:
        for lock in locks:
            lock.release()


@command()
def api(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.", show_default="KG_HOST")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (0: any free one).", show_default="KG_PORT")
    ] = None,
) -> None:
    """Run the REST + SPARQL API alone (every route but the webhook receiver)."""
    from kg.api.app import create_app

    settings = settings_or_exit("settings")
    _check_role("api", settings)
    host, _, sock = _listen(settings, host, port)
    _serve_http(settings, create_app(settings, role="api"), host, sock, "kg api", explorer=True)


@command()
def webhooks(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.", show_default="KG_HOST")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (0: any free one).", show_default="KG_PORT")
    ] = None,
) -> None:
    """Run the webhook receiver alone (POST /webhooks/events, /health, /ready, /metrics)."""
    from webhooks.app import create_webhooks_app

    settings = settings_or_exit("settings")
    _check_role("webhooks", settings)
    host, _, sock = _listen(settings, host, port)
    _serve_http(settings, create_webhooks_app(settings), host, sock, "kg webhooks")


@command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Worker processes to run.")] = 1,
) -> None:
    """Run pipeline worker processes alone (restarted if they die).

    SIGTERM lets each finish its job."""
    from kg.metric_files import share_between_processes
    from kg.roles import run_workers

    settings = settings_or_exit("settings")
    _check_role("worker", settings, concurrency)
    # the worker processes' metrics, summed, on KG_METRICS_PORT (files under the data dir)
    share_between_processes(settings.data_dir / "metrics")
    from kg.metrics import listen  # after share_between_processes: it imports prometheus-client

    listen(settings.host, settings.metrics_port)
    logs.announce(f"kg worker: {concurrency} process(es)", data_dir=str(settings.data_dir))
    run_workers(settings, concurrency)


@command()
def scheduler() -> None:
    """Run the scheduler alone: kg's periodic jobs (see KG_SCHEDULE_*)."""
    from kg.roles import run_scheduler

    settings = settings_or_exit("settings")
    _check_role("scheduler", settings)
    logs.announce("kg scheduler running", data_dir=str(settings.data_dir))
    try:
        run_scheduler(settings)
    except KgError as exc:  # its database is down: say so; the platform restarts it
        raise fail(exc, 2) from None
