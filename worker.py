"""Temporal worker entry point: registers every workflow and activity.

``pulse worker`` runs one worker per task queue (all queues by default). Each API process also
runs an in-process worker for the interactive queue so eager workflow start can hand it the
first task; dedicated workers poll the same queue and take over when an API process dies.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import importlib.metadata
import signal
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import prometheus_client
import structlog
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.worker import Worker, WorkerDeploymentConfig

from activities.accounts import AccountsActivities
from activities.attachments import Attachments
from activities.chat import ChatActivities
from activities.cv import CvActivities
from activities.data_export import DataExportActivities
from activities.diagnostics import DiagnosticsActivities
from activities.email import EmailActivities
from activities.images import ImageActivities
from activities.job_sweeper import job_sweeper
from activities.jobs import JobActivities
from activities.ledger import LedgerActivities
from activities.payments import PaymentActivities
from activities.refunds import RefundActivities
from activities.slides import SlidesActivities
from activities.storage import FileActivities
from activities.video import VideoActivities
from core.db import Database
from core.settings import Settings
from core.tracing import configure_tracing
from core.warmup import rehearse_turn
from providers.email import build_email_provider
from providers.images import ImageClient
from providers.llm import LLMClient
from providers.payments.hyperpay import HyperPayClient
from providers.scanner import ClamdScanner
from providers.storage import Storage, build_storage
from providers.streams import StreamBus, create_stream_bus
from providers.video import VideoClient
from workflows import ALL_QUEUES, BACKGROUND
from workflows.chat_turn import TURN_TYPES, ChatTurnWorkflow
from workflows.checkout import CheckoutWorkflow
from workflows.client import connect_with_backoff
from workflows.converter import warm_type_adapters
from workflows.cv import CvAssistWorkflow, CvRenderWorkflow
from workflows.data_export import AccountErasureWorkflow, DataExportWorkflow, ensure_erasure_schedule
from workflows.diagnostics import DiagnosticsWorkflow
from workflows.file_scan import FileScanWorkflow
from workflows.file_sweeper import FileSweeperWorkflow, ensure_file_sweeper_schedule
from workflows.images import ImageJobWorkflow
from workflows.ledger_starters import ensure_sweeper_schedule, quota_warning_sender
from workflows.ledger_sweeper import LedgerSweeperWorkflow
from workflows.purge_auth import PurgeAuthWorkflow
from workflows.refund import RefundRetryWorkflow
from workflows.schedules import ensure_purge_auth_schedule
from workflows.send_email import SendEmailWorkflow
from workflows.slides import SlideDeckWorkflow, SlideRegenerateWorkflow
from workflows.starters import start_file_scan
from workflows.subscription import SubscriptionWorkflow
from workflows.subscription_client import repair_forever
from workflows.video import VideoJobWorkflow

log = structlog.get_logger(__name__)
# Set, not derived: the SDK's default hashes the code of every loaded module, which costs each
# process seconds at start-up. Deploys set a Worker Deployment Version instead (versioning()).
BUILD_ID = "pulse-" + importlib.metadata.version("pulse-ai-studio")


def versioning(settings: Settings) -> dict[str, Any]:
    """Worker options: a pinned Worker Deployment Version when the deploy set one (each
    workflow keeps the code it started with while the previous version drains), else the
    unversioned build id."""
    if not (settings.worker_deployment_name and settings.worker_build_id):
        return {"build_id": BUILD_ID}
    version = WorkerDeploymentVersion(settings.worker_deployment_name, settings.worker_build_id)
    config = WorkerDeploymentConfig(
        version=version, use_worker_versioning=True, default_versioning_behavior=VersioningBehavior.PINNED
    )
    return {"deployment_config": config}


def freeze_heap() -> None:
    """Collect once, then move what start-up built (modules, SDKs, catalogs: ~1M objects) out
    of the cyclic collector's sight (`gc.freeze`). Otherwise the next full collection, which
    comes during the first turns, walks all of it: 0.3-1 s with the event loop stopped, once
    at start and then every time the young objects add up to a quarter of the old ones."""
    gc.collect()
    gc.freeze()


@dataclass
class WorkerDeps:
    """What activities are injected with; built once per process (the API process shares its
    own with its in-process worker, so the in-memory stream bus is one object)."""

    settings: Settings
    db: Database
    bus: StreamBus
    llm: LLMClient
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def storage(self) -> Storage:
        """One storage client per process (built on first use)."""
        if "storage" not in self.extras:
            self.extras["storage"] = build_storage(self.settings)
        storage: Storage = self.extras["storage"]
        return storage

    @property
    def images(self) -> ImageClient:
        """One image-provider client per process (built on first use)."""
        if "images" not in self.extras:
            self.extras["images"] = ImageClient(self.settings)
        images: ImageClient = self.extras["images"]
        return images

    @property
    def video(self) -> VideoClient:
        """One video-provider client per process (shares the image client's SDK clients)."""
        if "video" not in self.extras:
            self.extras["video"] = VideoClient(self.settings, self.images)
        video: VideoClient = self.extras["video"]
        return video

    async def warm(
        self, *, providers: bool = True, also: Callable[[], Coroutine[Any, Any, None]] | None = None
    ) -> None:
        """Make the first chat turn as fast as the fifth (docs/chat.md "Cold start"): database
        and Redis connections open, a turn's statements compiled and prepared (a rehearsal
        rolled back), its payload types' adapters built, each provider's SDK imported with
        its connection pool open, and the start-up heap frozen out of the collector's way.
        Run in the background after start: readiness never waits for it."""
        started = time.perf_counter()
        try:
            await self.db.ping()
            await rehearse_turn(self.db, self.settings)
            await self.bus.ping()
        except Exception as error:  # noqa: BLE001 - a warm-up is best effort
            log.warning("warm.storage_failed", error=type(error).__name__)
        warm_type_adapters(*TURN_TYPES)
        warmed = await self.llm.warm() if providers else []
        if also is not None:  # the API process's routes
            try:
                await asyncio.create_task(also())  # its own context: no request's log fields here
            except Exception as error:  # noqa: BLE001
                log.warning("warm.failed", error=type(error).__name__)
        freeze_heap()
        log.info("warm.done", providers=warmed, took_s=round(time.perf_counter() - started, 3))

    async def aclose(self) -> None:
        if "video" in self.extras:
            await self.extras["video"].aclose()
        if "images" in self.extras:
            await self.extras["images"].aclose()
        if "storage" in self.extras:
            await self.extras["storage"].aclose()
        if "hyperpay" in self.extras:
            await self.extras["hyperpay"].aclose()
        await self.llm.aclose()
        await self.bus.aclose()
        await self.db.dispose()


def build_deps(settings: Settings) -> WorkerDeps:
    return WorkerDeps(
        settings=settings,
        db=Database(
            settings.database_url,
            pool_size=settings.database_pool_size,
            command_timeout=settings.database_command_timeout_seconds,
            connect_timeout=settings.database_connect_timeout_seconds,
        ),
        bus=create_stream_bus(settings.redis_url, settings.redis_prefix),
        llm=LLMClient.from_settings(settings),
    )


def workflow_classes() -> list[type]:
    return [
        DiagnosticsWorkflow,
        SendEmailWorkflow,
        LedgerSweeperWorkflow,
        ChatTurnWorkflow,
        CheckoutWorkflow,
        SubscriptionWorkflow,
        RefundRetryWorkflow,
        PurgeAuthWorkflow,
        CvRenderWorkflow,
        CvAssistWorkflow,
        FileScanWorkflow,
        FileSweeperWorkflow,
        ImageJobWorkflow,
        VideoJobWorkflow,
        SlideDeckWorkflow,
        SlideRegenerateWorkflow,
        DataExportWorkflow,
        AccountErasureWorkflow,
    ]


def activity_functions(deps: WorkerDeps) -> list[Callable[..., Any]]:
    diagnostics = DiagnosticsActivities(deps.db)
    # extras["email"] overrides the provider chosen by settings.email_backend
    email = EmailActivities(
        deps.settings, deps.db, deps.extras.get("email") or build_email_provider(deps.settings)
    )
    ledger = LedgerActivities(deps.db, deps.settings, send_warning=quota_warning_sender(deps.settings))
    chat = ChatActivities(
        deps.settings, deps.db, deps.llm, deps.bus, ledger, attachments=Attachments(deps.db, deps.storage)
    )
    if "hyperpay" not in deps.extras:  # one HyperPay client (connection pool) per process
        deps.extras["hyperpay"] = HyperPayClient.from_settings(deps.settings)
    pay = PaymentActivities(deps.settings, deps.db, deps.extras["hyperpay"])
    refunds = RefundActivities(deps.db, deps.extras["hyperpay"])
    accounts = AccountsActivities(deps.db)
    job_steps = JobActivities(deps.db, deps.bus)
    cv = CvActivities(deps.settings, deps.db, deps.llm, deps.storage)
    slides = SlidesActivities(deps.settings, deps.db, deps.llm, deps.storage)
    file_steps = FileActivities(deps.settings, deps.db, deps.bus, deps.storage, ClamdScanner(deps.settings))
    images = ImageActivities(deps.settings, deps.db, deps.storage, deps.images, deps.llm, deps.bus)
    video = VideoActivities(deps.db, deps.storage, deps.video, deps.bus)
    data_export = DataExportActivities(deps.db, deps.storage, deps.bus)
    return [
        accounts.purge_auth,
        diagnostics.write_and_read,
        email.send,
        ledger.reserve,
        ledger.settle,
        ledger.release,
        ledger.sweep,
        chat.stream_reply,
        chat.settle,
        chat.fail,
        chat.finish_stopped,
        chat.finish_failed,
        pay.create_checkout,
        pay.verify_checkout,
        pay.expire_checkout,
        pay.fulfil,
        pay.charge,
        pay.end_plan,
        pay.set_past_due,
        pay.failure_notice,
        pay.reconcile_checkout,
        refunds.retry_refund,
        pay.late_decision,
        pay.quote_upgrade,
        job_steps.step,
        job_steps.finish,
        cv.assist,
        cv.render,
        cv.check,
        cv.thumbnail,
        file_steps.check,
        file_steps.scan,
        file_steps.promote,
        file_steps.reject,
        file_steps.sweep,
        images.moderate,
        images.generate,
        images.submit,
        images.poll,
        images.cancel,
        images.store,
        video.submit,
        video.poll_google,
        video.poll_runway,
        video.poll_replicate,
        video.cancel_google,
        video.cancel_runway,
        video.cancel_replicate,
        video.store,
        slides.outline,
        slides.record,
        slides.content,
        slides.fit,
        slides.render,
        slides.load,
        data_export.build,
        data_export.erase_due,
    ]


def build_workers(
    client: Client, deps: WorkerDeps, queues: Sequence[str] = ALL_QUEUES, **options: Any
) -> list[Worker]:
    activities = activity_functions(deps)
    return [
        Worker(
            client,
            task_queue=deps.settings.task_queue(queue),
            workflows=workflow_classes(),
            activities=activities,
            # Stop reaches a streaming activity over the bus; a heartbeat at least every 2 s
            # carries a workflow cancel to an activity that missed it.
            max_heartbeat_throttle_interval=timedelta(seconds=2),
            **versioning(deps.settings),
            **options,
        )
        for queue in queues
    ]


async def run(settings: Settings, queues: Sequence[str] = ALL_QUEUES) -> None:
    configure_tracing(settings, "pulse-worker")
    deps = build_deps(settings)
    client = await connect_with_backoff(settings)
    workers = build_workers(client, deps, queues)
    if settings.ledger_sweeper_schedule and BACKGROUND in queues:
        outcome = await ensure_sweeper_schedule(client, settings)
        log.info("ledger.sweeper_schedule", outcome=outcome, every_s=settings.ledger_sweep_interval_seconds)
    if settings.auth_purge_schedule and BACKGROUND in queues:
        outcome = await ensure_purge_auth_schedule(client, settings)
        log.info("accounts.purge_auth_schedule", outcome=outcome, keep_days=settings.auth_purge_keep_days)
    if settings.files_sweeper_schedule and BACKGROUND in queues:
        outcome = await ensure_file_sweeper_schedule(client, settings)
        log.info("files.sweeper_schedule", outcome=outcome, every_s=settings.files_sweep_interval_seconds)
    if settings.account_erasure_schedule and BACKGROUND in queues:
        outcome = await ensure_erasure_schedule(client, settings)
        log.info(
            "accounts.erasure_schedule", outcome=outcome, every_s=settings.account_erasure_interval_seconds
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if settings.worker_metrics_bind:
        host, _, port = settings.worker_metrics_bind.rpartition(":")
        prometheus_client.start_http_server(int(port), addr=host or "0.0.0.0")  # noqa: S104
    log.info("worker.started", queues=list(queues), address=settings.temporal_address)
    tasks = [asyncio.create_task(worker.run()) for worker in workers]
    warming = asyncio.create_task(deps.warm())  # noqa: F841 - kept referenced until exit
    if BACKGROUND in queues:  # repairs job rows left without a workflow (docs/operations.md)
        start_scan = functools.partial(start_file_scan, client, settings)
        sweeper = job_sweeper(settings, deps.db, deps.llm, deps.bus, client, start_scan)
        sweeping = asyncio.create_task(sweeper.run_forever(settings.job_sweep_interval_seconds))
        repairing = asyncio.create_task(  # every paid period keeps its renewal workflow (#15 item 5)
            repair_forever(client, settings, deps.db, settings.subscription_repair_interval_seconds)
        )
    stopper = asyncio.create_task(stop.wait())
    done, _pending = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        if task is not stopper and task.exception():
            log.error("worker.failed", error=str(task.exception()))
    if BACKGROUND in queues:
        sweeping.cancel()
        repairing.cancel()
    await asyncio.gather(*(worker.shutdown() for worker in workers), return_exceptions=True)
    await deps.aclose()
    log.info("worker.stopped")
