"""This process's Prometheus metrics. Request and job figures are counted as they happen;
the business gauges (payments, escrow, connections) are set by `/metrics` when scraped."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered, by route template and status",
    ["method", "route", "status"], registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds", "Time to answer an HTTP request, by route template",
    ["method", "route", "status"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
JOB_LAST_SUCCESS = Gauge(
    "background_job_last_success_timestamp_seconds",
    "When this process last finished a run of the background job (Unix time)",
    ["job"], registry=REGISTRY,
)
PAYMENTS = Gauge("payments", "Payments by state", ["state"], registry=REGISTRY)
ESCROW_HELD_PAISE = Gauge("escrow_held_paise", "Money held in escrow (paise)", registry=REGISTRY)
ESCROW_HELD_PAYMENTS = Gauge(
    "escrow_held_payments", "Payments whose money is held in escrow", registry=REGISTRY
)
SOCKETIO_CONNECTIONS = Gauge(
    "socketio_connections", "Socket.IO connections open on this process", registry=REGISTRY
)

# Requests that matched no route share one label, so probing random paths cannot grow the
# metric without bound.
UNMATCHED_ROUTE = "unmatched"
