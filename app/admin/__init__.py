"""The governance console: what admins see across every domain (dashboards, queues, evidence)."""
