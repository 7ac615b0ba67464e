"""The double-entry escrow ledger: the only place money moves."""
