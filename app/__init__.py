"""Parts & Repair Platform: a controlled mobile-parts marketplace with escrow and repairs."""
