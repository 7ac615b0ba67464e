"""Admin-governed platform rules: pricing bounds, order minimums, delivery, commission tiers."""
