"""The application: FastAPI with every domain router, Socket.IO on the same ASGI app."""

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import socketio
from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse

from app.admin.router import router as admin_router
from app.alerts.router import router as alerts_router
from app.appeals.router import router as appeals_router
from app.audit import service as audit_service
from app.audit import tasks as audit_tasks
from app.audit.router import router as audit_router
from app.auth.dependencies import signed_in_actor
from app.auth.router import router as auth_router
from app.calls import socket as calls_socket  # noqa: F401  (declares the call:* events)
from app.calls import tasks as call_tasks
from app.calls.demo import install_demo
from app.calls.router import router as calls_router
from app.catalog import service as catalog_service
from app.catalog import tasks as catalog_tasks
from app.catalog.router import router as catalog_router
from app.chat import lifecycle as chat_lifecycle
from app.chat import socket as chat_socket  # noqa: F401 (declares the chat:* socket events)
from app.chat import tasks as chat_tasks
from app.chat.router import router as chat_router
from app.consent import tasks as consent_tasks
from app.consent.router import router as consent_router
from app.consent.router import token_router as remote_session_token_router
from app.core.config import Environment, Settings, get_settings, use_settings
from app.core.database import Database, set_database
from app.core.errors import install_error_handlers
from app.core.jobs import JobRunner, PeriodicJob
from app.core.logging import configure_logging
from app.core.middleware import (
    MetricsMiddleware,
    RequestContextMiddleware,
    SecurityHeaders,
    TooLargeEnvelope,
)
from app.core.openapi import install_openapi
from app.core.permissions import SYSTEM_ACTOR
from app.core.ratelimit import RateLimiter, enforce_rate_limit
from app.core.swagger import install_swagger_ui
from app.dealers import service as dealers_service
from app.dealers.router import router as dealers_router
from app.disputes import opening as dispute_opening
from app.disputes import resolution as dispute_resolution
from app.disputes import service as disputes_service
from app.disputes.router import router as disputes_router
from app.documents import DOCUMENT_MODELS, RETIRED_INDEXES
from app.media import service as media_service
from app.media.router import router as media_router
from app.notifications import tasks as notification_tasks
from app.notifications.router import router as notifications_router
from app.ops.router import router as ops_router
from app.orders import repair_parts
from app.orders import service as orders_service
from app.orders import tasks as order_tasks
from app.orders.router import router as orders_router
from app.payments import service as payments_service
from app.payments import tasks as payment_tasks
from app.payments.router import router as payments_router
from app.payments.router import webhook_router as payment_webhook_router
from app.payments.service import refund_when_order_cancelled
from app.payouts import service as payouts_service
from app.payouts import tasks as payout_tasks
from app.payouts.router import admin_router as payouts_admin_router
from app.payouts.router import router as payouts_router
from app.platform_rules import service as platform_rules_service
from app.platform_rules.router import router as platform_rules_router
from app.ratings.router import router as ratings_router
from app.realtime import events as realtime_events
from app.realtime.server import create_socketio_server
from app.repairs import tasks as repair_tasks
from app.repairs import terminal as repair_terminal
from app.repairs.router import router as repairs_router
from app.repairs.terminal_router import router as repair_terminal_router
from app.sandbox import SANDBOX_PATH, sandbox_app_for
from app.technicians import onboarding as technician_onboarding
from app.technicians import service as technicians_service
from app.technicians.router import router as technicians_router
from app.users import service as users_service
from app.users.router import router as users_router

log = logging.getLogger(__name__)

API_ROUTERS: list[APIRouter] = [
    auth_router,
    users_router,
    dealers_router,
    # Before the technicians' routes: its /api/technicians/me/offers is matched first.
    repairs_router,
    technicians_router,
    ratings_router,
    chat_router,
    catalog_router,
    orders_router,
    payments_router,
    disputes_router,
    payouts_router,
    payouts_admin_router,
    platform_rules_router,
    repair_terminal_router,
    admin_router,
    alerts_router,
    appeals_router,
    notifications_router,
    audit_router,
    calls_router,
    consent_router,
    remote_session_token_router,
]

OPENAPI_TAGS = [
    {"name": "Authentication", "description": "Sign up, sign in, refresh and sign out"},
    {"name": "Users", "description": "Accounts and their governance"},
    {"name": "Dealers", "description": "Dealer onboarding, verification and compliance"},
    {"name": "Technicians", "description": "Technician onboarding and approval, live location "
                                           "with spoofing checks, availability, nearby search"},
    {"name": "Repairs", "description": "Repair jobs: booking, matching and offers, admin "
                                       "assignment, the job's lifecycle and the technician's "
                                       "payment terminal (quotes)"},
    {"name": "Ratings", "description": "Customers rate their completed repairs; technicians' "
                                       "averages, Bayesian scores and score distributions"},
    {"name": "Chat", "description": "Job chat over REST and Socket.IO: history with read "
                                    "receipts, admin status changes and moderation"},
    {"name": "Products", "description": "The parts catalogue with B2B/B2C prices"},
    {"name": "Inventory", "description": "Stock per product; reservations never oversell"},
    {"name": "Orders", "description": "Rule-checked B2B/B2C orders and their lifecycle"},
    {"name": "Payments", "description": "Razorpay capture into escrow, release, holds, refunds"},
    {"name": "Disputes", "description": "Buyers' disputes over paid orders: evidence notes and "
                                        "resolutions that refund, release or split the escrow"},
    {"name": "Payouts", "description": "Recipients' bank accounts and payouts of their payable balance"},
    {"name": "Media", "description": "Images and videos shared in a job's chat, stored in GridFS"},
    {"name": "Calls", "description": "Audio/video calls between a job's two parties: ringing, "
                                     "accept/reject/end, WebRTC signalling, TURN credentials, logs"},
    {"name": "Software-repair consent", "description": "Customers' consents (IMEI access, "
                                                   "remote ports), the IMEI reveal, remote port "
                                                   "sessions and their hash-chained logs"},
    {"name": "Admin", "description": "Admin-only views, platform rules and actions"},
    {"name": "Notifications", "description": "Your in-app notifications"},
    {"name": "Appeals", "description": "Suspended dealers and technicians appeal their suspension"},
    {"name": "Audit", "description": "The append-only, hash-chained audit trail"},
    {"name": "Health", "description": "Liveness and readiness"},
]


def _jobs(config: Settings) -> JobRunner:
    runner = JobRunner(journal=config.job_run_journal)
    for job in audit_tasks.jobs(config):
        runner.add(job)
    runner.add(
        PeriodicJob(
            "order-reservation-expiry", order_tasks.expire_reservations,
            interval=order_tasks.EXPIRY_INTERVAL_SECONDS,
        )
    )
    runner.add(
        PeriodicJob(
            "stock-reservation-reconciler", order_tasks.reconcile_reservations,
            interval=config.escrow.reservation_reconcile_interval_seconds, lease_ttl=120,
        )
    )
    runner.add(
        PeriodicJob(
            "order-delivery-confirmation", order_tasks.confirm_deliveries,
            interval=config.escrow.job_interval_seconds,
        )
    )
    for job in chat_tasks.jobs():
        runner.add(job)
    for job in payment_tasks.jobs(config):
        runner.add(job)
    for job in call_tasks.jobs(config):
        runner.add(job)
    for job in repair_tasks.jobs(config):
        runner.add(job)
    for job in consent_tasks.jobs(config):
        runner.add(job)
    for job in notification_tasks.jobs():
        runner.add(job)
    runner.add(
        PeriodicJob(
            "payout-reconciler", payout_tasks.resume_unsettled_payouts,
            interval=config.payouts.reconcile_interval_seconds, lease_ttl=120,
        )
    )
    if config.payouts.batch_enabled:
        runner.add(
            PeriodicJob(
                "payout-batch", payout_tasks.payout_batch_job,
                interval=config.payouts.batch_interval_seconds, lease_ttl=600,
            )
        )
    return runner


async def _audit_ip_block(ip: str) -> None:
    await audit_service.record(
        None, actor=SYSTEM_ACTOR, action="security.ip_blocked", subject_type="ip",
        subject_id=ip, reason="Rate limit exceeded repeatedly",
    )


def create_fastapi(config: Settings, *, freeze_heap: bool = False) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = config.database.mongodb_url
        if not url:
            raise RuntimeError("MONGODB_URL is not set (run through `parts-platform serve`)")
        database = Database(url, config.database.mongodb_db)
        set_database(database)
        await database.init_documents(DOCUMENT_MODELS, RETIRED_INDEXES)
        await _bootstrap_admin(config)
        await catalog_tasks.warm_read_model()
        app.state.rate_limiter = RateLimiter(config.rate_limits, config.redis_url, _audit_ip_block)
        jobs = _jobs(config)
        if config.background_tasks_enabled:
            jobs.start()
        app.state.jobs = jobs
        refresher = catalog_tasks.start_refresher() if config.background_tasks_enabled else None
        if freeze_heap:
            # Everything built so far lives as long as the process: out of the collector's
            # sight, a full collection no longer walks it (it paused a 500-member chat
            # fan-out for 100+ ms; bench/README.md "Chat fan-out").
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            await catalog_tasks.stop_refresher(refresher)
            await jobs.stop()
            await database.close()
            set_database(None)

    app = FastAPI(
        title="Parts & Repair Platform API",
        version="1.0.0",
        description=(
            "Controlled B2B/B2C mobile-parts marketplace with repair services, escrow payments "
            "and admin governance. Every response uses the envelope "
            "`{success, message, data, traceId}`; money is integer paise."
        ),
        openapi_tags=OPENAPI_TAGS,
        lifespan=lifespan,
        max_body_size=config.max_body_bytes,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = config
    install_error_handlers(app)
    orders_service.register_cancellation_hook(refund_when_order_cancelled)
    payments_service.register_event_handler("payout", payouts_service.apply_provider_event)
    orders_service.register_cancellation_hook(disputes_service.refuse_cancelling_disputed_order)
    payments_service.register_release_hook(dispute_resolution.complete_after_release)
    dispute_opening.register_opened_hook(chat_lifecycle.lock_for_dispute)
    dealers_service.register_selling_hook(catalog_service.set_dealer_listing_visibility)
    platform_rules_service.register_tier_usage(dealers_service.tiers_in_use)
    repair_parts.register_repair_parts(repair_terminal)
    platform_rules_service.register_tier_usage(technicians_service.tiers_in_use,
                                               platform_rules_service.TECHNICIAN_COMMISSION)
    users_service.register_rename_hook(technician_onboarding.follow_account_name)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=config.cors_origins, allow_credentials=True,
            allow_methods=["*"], allow_headers=["*"], expose_headers=["X-Request-ID"],
        )
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestContextMiddleware, trusted_proxies=tuple(config.trusted_proxies))
    for router in API_ROUTERS:
        app.include_router(router, dependencies=[Depends(enforce_rate_limit)])
    app.include_router(payment_webhook_router, dependencies=[Depends(enforce_rate_limit)],
                       max_body_size=config.payments.webhook_max_body_bytes)
    app.include_router(media_router, dependencies=[Depends(enforce_rate_limit)],
                       max_body_size=media_service.upload_body_limit(config.media))
    app.include_router(ops_router)
    install_openapi(app, rate_limit=enforce_rate_limit, signed_in=signed_in_actor)
    install_swagger_ui(app)
    _add_root_redirect(app)
    install_demo(app, config)
    if config.payments.uses_sandbox or config.payouts.uses_sandbox:
        app.mount(SANDBOX_PATH, sandbox_app_for(config))
    return app


async def _bootstrap_admin(config: Settings) -> None:
    email, password = config.auth.bootstrap_admin_email, config.auth.bootstrap_admin_password
    if email and password:
        created = await users_service.bootstrap_admin(email, password.get_secret_value())
        if created:
            log.info("bootstrap superadmin created", extra={"userId": created.id})


def _add_root_redirect(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/docs")


def create_app(config: Settings | None = None, *, freeze_heap: bool = False) -> Any:
    """The ASGI app: Socket.IO at /socket.io, everything else FastAPI."""
    config = config or get_settings()
    use_settings(config)
    configure_logging(config.log_level)
    fastapi_app = create_fastapi(config, freeze_heap=freeze_heap)
    sio = create_socketio_server(config)
    realtime_events.use_server(sio)
    asgi = SecurityHeaders(
        socketio.ASGIApp(sio, other_asgi_app=TooLargeEnvelope(fastapi_app)),
        strict_transport=config.app_env is Environment.PRODUCTION,
    )
    asgi.fastapi = fastapi_app  # type: ignore[attr-defined]
    asgi.sio = sio  # type: ignore[attr-defined]
    return asgi
