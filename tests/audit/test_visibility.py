"""Audit log reads are scoped to the caller: only auditors (audit:read) see entries."""

from app.audit import service as audit_service
from app.core.pagination import PageRequest
from app.core.permissions import Actor, Role
from tests.helpers import Api


async def test_only_an_auditor_reads_audit_entries(api: Api):
    customer, auditor = await api.customer(), await api.admin("compliance")
    await api.wait_for_audit(auditor, 1, action="user.signed_up", subjectId=customer.id)
    filters = audit_service.AuditFilter(subject_id=customer.id, action="user.signed_up")

    as_customer, _ = await audit_service.list_entries(
        Actor.of(customer.id, Role.CUSTOMER), filters, PageRequest()
    )
    as_auditor, _ = await audit_service.list_entries(
        Actor.of(auditor.id, Role.ADMIN, ("compliance",)), filters, PageRequest()
    )

    assert as_customer == []
    assert [entry["action"] for entry in as_auditor] == ["user.signed_up"]
