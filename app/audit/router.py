from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.audit import checkpoints, export, service, verification
from app.audit.schemas import (
    AuditEntryRead,
    ChainProblem,
    ChainVerification,
    CheckpointCounts,
    SigningKeyRead,
)
from app.auth.dependencies import require
from app.core.config import settings
from app.core.errors import responses
from app.core.pagination import Pagination
from app.core.permissions import Permission
from app.core.schemas import Envelope, Page, ok
from app.core.validators import IsoDatetime

router = APIRouter(tags=["Audit"], responses=responses(401, 403))
AuditReader = require(Permission.AUDIT_READ)


async def _list_logs(
    actor: AuditReader,
    page: Pagination,
    actor_id: Annotated[str | None, Query(alias="actorId", max_length=64)] = None,
    subject_type: Annotated[str | None, Query(alias="subjectType", max_length=64)] = None,
    subject_id: Annotated[str | None, Query(alias="subjectId", max_length=128)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    override: bool | None = None,
    since: Annotated[IsoDatetime | None, Query(alias="from")] = None,
    until: Annotated[IsoDatetime | None, Query(alias="to")] = None,
    pending: Annotated[bool, Query(
        description="List the entries still waiting for the sequencer instead of the chain",
    )] = False,
) -> Envelope[Page[AuditEntryRead]]:
    """Audit entries in chain order (`seq`, newest first), filtered by actor, subject, action,
    override and time.

    The listing is the chain: an entry appears once the sequencer has chained it, within a
    second of its commit, so cursor pages never shift. `pending=true` lists instead the entries
    committed but not chained yet (no `seq`; newest first), as `pending` of the verifier counts.
    """
    filters = service.AuditFilter(
        actor_id=actor_id, subject_type=subject_type, subject_id=subject_id,
        action=action, override=override, since=since, until=until,
    )
    docs, next_cursor = await service.list_entries(actor, filters, page, pending)
    items = [AuditEntryRead.model_validate(doc) for doc in docs]
    return ok(Page[AuditEntryRead](items=items, next_cursor=next_cursor))


router.add_api_route("/api/audit/logs", _list_logs, methods=["GET"], summary="List audit logs")
router.add_api_route(
    "/api/admin/audit/logs", _list_logs, methods=["GET"], summary="List audit logs (admin path)"
)


@router.get("/api/audit/verify", summary="Verify the audit hash chain and its checkpoints")
async def verify_chain(actor: AuditReader) -> Envelope[ChainVerification]:
    """Recompute the hash chain and hold it against every signed checkpoint (file and
    database): reports entries that no longer hash (`broken`), entries rewritten since a
    checkpoint (`rewritten`), entries dropped (`truncated`), forged checkpoints and how many
    entries still wait for the sequencer (`pending`)."""
    report = await verification.verify_chain(settings())
    counts = report.checkpoints
    return ok(ChainVerification(
        valid=report.valid, checked_entries=report.checked, head_seq=report.head_seq,
        first_broken_seq=report.first_broken_seq, pending=report.pending,
        checkpoints=CheckpointCounts(file=counts.file, database=counts.database,
                                     verified=counts.verified, last_seq=counts.last_seq),
        problems=[ChainProblem(kind=p.kind.value, seq=p.seq, source=p.source, detail=p.detail)
                  for p in report.problems],
    ))


@router.get("/api/audit/checkpoints/key", summary="The public key of audit checkpoints")
async def checkpoint_key() -> Envelope[SigningKeyRead]:
    """The Ed25519 public key that verifies audit checkpoints (base64 raw and PEM). Public, no
    sign-in: it is meant to be pinned by anyone who checks the checkpoint file independently."""
    info = checkpoints.public_key_info(settings())
    return ok(SigningKeyRead(key_id=info.key_id, algorithm=info.algorithm,
                             public_key=info.public_key, pem=info.pem))


@router.get(
    "/api/admin/audit/export", tags=["Admin"], response_class=StreamingResponse,
    responses={**responses(422), 200: {
        "description": "The entries, streamed",
        "content": {kind: {"schema": {"type": "string", "format": "binary"}}
                    for kind in export.MEDIA_TYPES.values()},
    }},
)
async def export_audit(
    actor: AuditReader,
    since: Annotated[IsoDatetime, Query(alias="from", description="Start of the window (inclusive)")],
    until: Annotated[IsoDatetime, Query(alias="to", description="End of the window (exclusive)")],
    form: Annotated[export.ExportFormat, Query(alias="format")] = export.ExportFormat.JSONL,
) -> StreamingResponse:
    """Stream the chained audit entries with `at` in [from, to), in `seq` order (compliance).

    `jsonl`: one entry a line (as the audit list shows it), then one line
    `{"checkpoint": …}`: the first signed checkpoint at or after the window's last entry, to
    verify the exported entries against, or `null` when none covers them yet. `csv`: a header
    row, then one row an entry (nested fields as JSON). Entries not chained yet (a second or
    so after their commit) are not exported."""
    since, until = export.check_window(since, until)
    return StreamingResponse(
        export.stream(since, until, form), media_type=export.MEDIA_TYPES[form],
        headers={"Content-Disposition":
                 f'attachment; filename="{export.filename(since, until, form)}"'},
    )
