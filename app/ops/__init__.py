"""What operators and their tools read: liveness, readiness, Prometheus metrics, API docs."""
