"""Audit tests keep their signing key and checkpoint file in the test's own directory."""

from pathlib import Path

import pytest

from app.core.config import Settings


@pytest.fixture
def config(config: Settings, tmp_path: Path) -> Settings:
    audit = config.audit.model_copy(update={
        "signing_key_file": str(tmp_path / "audit" / "signing.key"),
        "checkpoint_file": str(tmp_path / "audit" / "checkpoints.jsonl"),
    })
    return config.model_copy(update={"audit": audit})


