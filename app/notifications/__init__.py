"""In-app notifications: records a user reads (and the apps push) about their orders."""
