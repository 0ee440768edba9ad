"""The ``pulse`` command: dev stack, API, worker, migrations, diagnostics and admin tasks.

``pulse api`` and ``pulse worker`` are what production containers run, configured only by
environment variables (``PULSE_*``)."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import typer

from core.settings import Settings, load_settings

app = typer.Typer(help="Pulse AI Studio", no_args_is_help=True, add_completion=False)
admin_app = typer.Typer(help="Operator tasks (roles, plans …)", no_args_is_help=True)
app.add_typer(admin_app, name="admin")


M_ARENA_MAX = -8  # glibc's mallopt parameter
MALLOC_ARENAS = 2


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process (``MALLOC_ARENA_MAX`` in the environment wins).

    glibc gives every thread that allocates an arena of its own, up to eight per core, and the
    Temporal SDK's threads and the workflow thread pool keep memory in each. With two, API +
    worker peaked ~15 MB lower under load (`bench chat`: 377–381 against 391–398 MB) at the
    same turns per second. Returns whether the cap was set (False on other C libraries)."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):
        mallopt = None
    return bool(mallopt and mallopt(M_ARENA_MAX, arenas) == 1)


def _settings() -> Settings:
    settings = load_settings()
    from core.logging import configure_logging

    configure_logging(settings.log_level, json=settings.log_json)
    return settings


@app.command()
def migrate(revision: str = typer.Argument("head", help="target revision")) -> None:
    """Apply database migrations."""
    from core.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    typer.echo(f"database migrated to {revision}")


@app.command()
def api() -> None:
    """Serve the API and web app (and an interactive-queue worker)."""
    import uvicorn

    limit_malloc_arenas()
    settings = _settings()
    uvicorn.run(
        "api.app:asgi",
        factory=True,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )


@app.command()
def worker(queue: list[str] = typer.Option(None, "--queue", "-q", help="task queues (default: all)")) -> None:
    """Run the Temporal worker."""
    import worker as worker_module
    from workflows import ALL_QUEUES

    limit_malloc_arenas()
    settings = _settings()
    asyncio.run(worker_module.run(settings, queue or ALL_QUEUES))


@app.command()
def doctor() -> None:
    """Run a DiagnosticsWorkflow and print each hop's latency."""
    from workflows import BACKGROUND
    from workflows.client import connect
    from workflows.doctor import run_diagnostics

    settings = _settings()

    async def main() -> None:
        started = time.perf_counter()
        try:
            client = await asyncio.wait_for(connect(settings), 10)
        except Exception as error:  # noqa: BLE001
            typer.echo(f"temporal at {settings.temporal_address}: unreachable ({error})", err=True)
            raise typer.Exit(1) from None
        typer.echo(
            f"temporal at {settings.temporal_address}: connected in "
            f"{(time.perf_counter() - started) * 1000:.1f} ms"
        )
        report = await asyncio.wait_for(run_diagnostics(client, settings.task_queue(BACKGROUND)), 60)
        for line in report.lines():
            typer.echo(line)

    asyncio.run(main())


@app.command()
def emulator(
    port: int = typer.Option(None, "--port", help="default: PULSE_EMULATOR_PORT"),
    ttft_ms: int = typer.Option(300, "--ttft-ms", help="time to first token (ms)"),
    token_ms: int = typer.Option(30, "--token-ms", help="delay between tokens (ms)"),
) -> None:
    """Serve the offline provider emulator (OpenAI, Anthropic, Google wire protocols)."""
    from emulator.__main__ import serve

    settings = _settings()
    serve("127.0.0.1", port or settings.emulator_port, ttft_ms, token_ms)


@dataclass
class Child:
    name: str
    command: list[str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = field(default=0.0)

    def start(self, env: dict[str, str]) -> None:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            self.command, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started_at = time.monotonic()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def dev_children(settings: Settings, logs: Path) -> list[Child]:
    from workflows import BACKGROUND, DOCUMENTS, MEDIA, SEARCH_ATTRIBUTES
    from workflows.client import binary, dev_server_args, dev_server_file_args

    pulse = [sys.executable, "-m", "cli"]
    temporal = [
        binary("temporal"),
        "server",
        "start-dev",
        *dev_server_file_args(str(settings.var_dir / "temporal.db")),
        "--ip",
        "127.0.0.1",
        "--port",
        str(settings.temporal_port),
        "--ui-port",
        str(settings.temporal_ui_port),
        "--log-level",
        "warn",
        *[arg for key in SEARCH_ATTRIBUTES for arg in ("--search-attribute", f"{key.name}=Keyword")],
        *dev_server_args(),
    ]
    emulator = [sys.executable, "-m", "emulator", "--port", str(settings.emulator_port)]
    # Without Redis the stream bus is in memory, so chat turns must run in the API process:
    # the dedicated worker then leaves the interactive queue to it.
    queues = [] if settings.redis_url else ["-q", BACKGROUND, "-q", DOCUMENTS, "-q", MEDIA]
    children = [
        Child("temporal", temporal, logs / "temporal.log"),
        Child("emulator", emulator, logs / "emulator.log"),
        Child("worker", [*pulse, "worker", *queues], logs / "worker.log"),
        Child("api", [*pulse, "api"], logs / "api.log"),
    ]
    return children + clamd_children(settings, logs)


def clamd_children(settings: Settings, logs: Path) -> list[Child]:
    """clamd for upload scans (freshclam's databases, else the shipped test signatures); without
    clamd installed, uploads are refused with scanner_unavailable (never accepted unscanned)."""
    from providers.scanner.daemon import clamd_binary, database_dir, write_config

    binary_path = clamd_binary()
    if settings.clamd_address or binary_path is None:
        return []
    Path(settings.clamd_socket_path).unlink(missing_ok=True)
    config = write_config(settings, database_dir())
    return [Child("clamd", [binary_path, f"--config-file={config}"], logs / "clamd.log")]


@app.command()
def dev() -> None:
    """Start and supervise the whole embedded stack in one terminal (Ctrl-C stops it)."""
    from core.migrate import upgrade

    os.environ.setdefault("PULSE_ENV", "dev")  # the embedded stack is dev unless told otherwise
    settings = _settings()
    logs = settings.var_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    env = {**os.environ, "PULSE_ENV": settings.env.value, "PYTHONUNBUFFERED": "1"}
    children = dev_children(settings, logs)
    for child in children:
        child.start(env)
        if child.name == "temporal":
            _wait_for_port(settings.temporal_port, 30)
        if child.name == "emulator":
            _wire_hyperpay_emulator(settings)
    typer.echo(
        f"\nPulse AI Studio is running:\n"
        f"  app + API      {settings.public_url}\n"
        f"  dev mailbox    {settings.public_url}/dev/mailbox\n"
        f"  Temporal UI    http://127.0.0.1:{settings.temporal_ui_port}\n"
        f"  emulator       {settings.emulator_url}/_emulator/calls\n"
        f"  logs           {logs}\n"
        f"Press Ctrl-C to stop.\n"
    )
    stopping = False

    def _stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stopping:
            time.sleep(0.5)
            for child in children:
                _restart_if_dead(child, env)
    finally:
        typer.echo("stopping…")
        for child in reversed(children):
            child.stop()
        typer.echo("stopped")


def _wire_hyperpay_emulator(settings: Settings) -> None:
    """Point the emulator's HyperPay webhooks at this API with this webhook secret."""
    import httpx

    if not settings.hyperpay_base_url.startswith(settings.emulator_url):
        return
    _wait_for_port(settings.emulator_port, 30)
    config = {
        "webhook_url": f"{settings.public_url.rstrip('/')}/v1/payments/webhook/hyperpay",
        "webhook_secret": settings.hyperpay_webhook_secret.get_secret_value(),
    }
    try:
        httpx.post(f"{settings.emulator_url}/_emulator/hyperpay/config", json=config, timeout=5)
    except httpx.HTTPError as error:
        typer.echo(f"could not configure the HyperPay emulator's webhooks: {error}", err=True)


def _restart_if_dead(child: Child, env: dict[str, str]) -> None:
    if child.process is None or child.process.poll() is None:
        return
    delay = min(2**child.restarts, 30)
    if time.monotonic() - child.started_at < delay:
        return
    typer.echo(f"{child.name} exited with {child.process.returncode}; restarting (see {child.log})", err=True)
    child.restarts += 1
    child.start(env)


def _wait_for_port(port: int, timeout: float) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)


@admin_app.command("grant-role")
def grant_role(
    email: str = typer.Argument(..., help="the user's email address"),
    role: str = typer.Argument(..., help="user, support or admin"),
) -> None:
    """Give an existing user a role (written to the audit log)."""
    from core import accounts
    from core.db import Database
    from core.models import Role

    if role not in {r.value for r in Role}:
        typer.echo(f"unknown role {role!r}: use user, support or admin", err=True)
        raise typer.Exit(2)
    settings = _settings()

    async def main() -> None:
        database = Database(settings.database_url)
        try:
            async with database.session() as session:
                user = await accounts.grant_role(session, email, role, actor="cli")
                typer.echo(f"{user.email} is now {user.role}")
        except accounts.UserNotFound:
            typer.echo(f"no user with email {email}", err=True)
            raise typer.Exit(1) from None
        finally:
            await database.dispose()

    asyncio.run(main())


@admin_app.command("purge-auth")
def purge_auth(keep_days: int = typer.Option(7, "--keep-days", min=0, help="keep this many days")) -> None:
    """Delete expired or revoked sessions and expired sign-in links (run it daily)."""
    from core import accounts
    from core.db import Database

    settings = _settings()

    async def main() -> None:
        database = Database(settings.database_url)
        try:
            async with database.session() as session:
                counts = await accounts.purge_expired(session, keep_days=keep_days)
        finally:
            await database.dispose()
        typer.echo(f"deleted {counts['sessions']} sessions and {counts['magic_links']} sign-in links")

    asyncio.run(main())


@admin_app.command("set-plan")
def set_plan(
    email: str = typer.Argument(..., help="the user's email address"),
    plan: str = typer.Argument(..., help="free, starter, pro or creator"),
    reason: str = typer.Option("set by an operator", "--reason", help="written to the ledger entries"),
) -> None:
    """Move a user to a plan and open a new period with its quotas (and its renewal workflow)."""
    from core import accounts, payments, subscriptions
    from core.db import Database
    from core.plans import PLANS

    if plan not in PLANS:
        typer.echo(f"unknown plan {plan!r}: use {', '.join(PLANS)}", err=True)
        raise typer.Exit(2)
    settings = _settings()

    async def main() -> None:
        database = Database(settings.database_url)
        try:
            async with database.session() as session:
                user = await accounts.get_user_by_email(session, email)
                if user is None:
                    typer.echo(f"no user with email {email}", err=True)
                    raise typer.Exit(1)
                row = await subscriptions.set_plan(session, user.id, plan, actor="cli", reason=reason)
                typer.echo(
                    f"{user.email} is on {row.plan_id} from {row.current_period_start:%Y-%m-%d %H:%M} "
                    f"to {row.current_period_end:%Y-%m-%d %H:%M} UTC"
                )
                period = await payments.paid_period(session, user.id)
            if period is not None:
                await _sync_subscription(settings, period)
        finally:
            await database.dispose()

    asyncio.run(main())


@admin_app.command("erase-deleted")
def erase_deleted() -> None:
    """Erase the accounts whose deletion grace period is over, now (`pulse worker` also runs
    this every hour on a Temporal Schedule) and delete expired data-export archives."""
    from activities.data_export import DataExportActivities, ErasureInput
    from core.db import Database
    from providers.storage import build_storage
    from providers.streams import create_stream_bus

    settings = _settings()

    async def main() -> None:
        database, storage = Database(settings.database_url), build_storage(settings)
        bus = create_stream_bus(settings.redis_url, settings.redis_prefix)
        try:
            result = await DataExportActivities(database, storage, bus).erase_due(ErasureInput())
        finally:
            await bus.aclose()
            await storage.aclose()
            await database.dispose()
        typer.echo(
            f"erased {len(result.erased)} accounts ({result.objects_deleted} stored objects); "
            f"{result.exports_expired} expired data exports deleted"
        )
        if result.erased:
            await _cancel_renewals(settings, result.erased)

    asyncio.run(main())


async def _cancel_renewals(settings: Settings, user_ids: list[str]) -> None:
    """Erased accounts' paid plans renew no more (what AccountErasureWorkflow signals too)."""
    from temporalio.service import RPCError

    from workflows.client import connect
    from workflows.payments_common import subscription_id

    try:
        client = await asyncio.wait_for(connect(settings), 10)
    except Exception as error:  # noqa: BLE001 - reported; the hourly workflow cannot redo it
        typer.echo(f"warning: Temporal unreachable ({error}); cancel these renewals: {user_ids}", err=True)
        return
    for user_id in user_ids:
        try:
            await client.get_workflow_handle(subscription_id(user_id)).signal("cancel")
        except RPCError:
            pass  # no renewal workflow


if __name__ == "__main__":
    app()


async def _sync_subscription(settings: Settings, period: object) -> None:
    """Start or update the user's SubscriptionWorkflow; if Temporal is unreachable, say how to
    repair it later instead of failing the plan change."""
    from core.payments import PaidPeriod
    from workflows.client import connect
    from workflows.subscription_client import sync_subscription

    assert isinstance(period, PaidPeriod)
    try:
        client = await asyncio.wait_for(connect(settings), 10)
        await sync_subscription(client, settings, period)
    except Exception as error:  # noqa: BLE001 - reported, repaired by repair-subscriptions
        typer.echo(
            f"warning: renewal workflow not updated ({error}); run `pulse admin repair-subscriptions`",
            err=True,
        )


@admin_app.command("repair-subscriptions")
def repair_subscriptions() -> None:
    """Start the SubscriptionWorkflow of every paid period that has none, and list them."""
    from core import payments
    from core.db import Database
    from workflows.client import connect
    from workflows.subscription_client import repair_subscriptions as repair

    settings = _settings()

    async def main() -> None:
        database = Database(settings.database_url)
        try:
            async with database.session() as session:
                periods = await payments.paid_periods(session)
            repaired = await repair(await connect(settings), settings, periods)
        finally:
            await database.dispose()
        typer.echo(f"{len(periods)} paid periods, {len(repaired)} without a renewal workflow: started")
        for user_id in repaired:
            typer.echo(f"  repaired subscription-{user_id}")

    asyncio.run(main())
