"""RazorpayX's payouts as the sandbox plays them: contacts, bank-account fund accounts and
payouts from the business account, once per `X-Payout-Idempotency` key, settled later as
processed, reversed or failed with the matching signed webhook.

A new payout is `processing`. With `auto_process_payouts` on (the default) the sandbox settles
it just after answering: `reversed` when the fund account's number ends in 0000 (the test
accounts whose bank rejects payouts), `processed` otherwise. Off, it waits for the control
`POST /payouts/{id}/settle`.
"""

import json
import re
import secrets
from typing import Any, Literal

from app.sandbox.errors import RazorpayApiError, invalid, no_such_id, not_allowed
from app.sandbox.rules import amount_of, notes_of, public, refuse_unknown
from app.sandbox.store import Entity, PayoutKey, SandboxStore, WebhookEventRecord
from app.sandbox.webhooks import WebhookDispatcher, now_ts, random_id

PayoutOutcome = Literal["processed", "reversed", "failed"]

CONTACT_FIELDS = {"name", "email", "contact", "type", "reference_id", "notes"}
CONTACT_TYPES = {"vendor", "customer", "employee", "self"}
FUND_ACCOUNT_FIELDS = {"contact_id", "account_type", "bank_account"}
BANK_ACCOUNT_FIELDS = {"name", "ifsc", "account_number"}
PAYOUT_FIELDS = {
    "account_number", "fund_account_id", "amount", "currency", "mode", "purpose",
    "queue_if_low_balance", "reference_id", "narration", "notes",
}
BANK_MODES = {"IMPS", "NEFT", "RTGS"}
PURPOSES = {"refund", "cashback", "payout", "salary", "utility bill", "vendor bill"}
IDEMPOTENCY_HEADER = "X-Payout-Idempotency"
PAYOUT_KEY = re.compile(r"^[A-Za-z0-9_\- ]{4,36}$")
IFSC = re.compile(r"^[A-Z]{4}0[A-Z0-9]{6}$")
BANK_ACCOUNT_NUMBER = re.compile(r"^[0-9A-Za-z]{5,35}$")
NARRATION = re.compile(r"^[A-Za-z0-9 ]{0,30}$")
PAYOUT_EVENTS = {"payout.processed", "payout.reversed", "payout.failed"}
REJECTING_SUFFIX = "0000"
STATUS_DETAILS: dict[str, dict[str, str]] = {
    "reversed": {"source": "beneficiary_bank", "reason": "beneficiary_bank_rejected",
                 "description": "The beneficiary bank rejected the payout"},
    "failed": {"source": "internal", "reason": "bank_failure",
               "description": "The payout failed at the partner bank"},
}


def _text(body: dict[str, Any], name: str, max_length: int, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(f"The {name} field is required.", name)
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise invalid(f"The {name} must be a string of at most {max_length} characters.", name)
    return value


class RazorpayXSandbox:
    def __init__(
        self, store: SandboxStore, dispatcher: WebhookDispatcher, account_number: str,
        currency: str = "INR",
    ) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.account_number = account_number
        self.currency = currency
        # False: payouts stay `processing` until settled through the control route.
        self.auto_process_payouts = True

    # --- contacts and fund accounts (an identical one again answers the existing one) -----

    async def create_contact(self, body: dict[str, Any]) -> tuple[Entity, bool]:
        refuse_unknown(body, CONTACT_FIELDS)
        name = _text(body, "name", 50, required=True)
        kind = body.get("type")
        if kind is not None and kind not in CONTACT_TYPES:
            raise invalid("Invalid type: " + str(kind), "type")
        details = {"name": name, "email": _text(body, "email", 100),
                   "contact": _text(body, "contact", 20), "type": kind,
                   "reference_id": _text(body, "reference_id", 40)}
        async with self.store.locked():
            for existing in await self.store.find("contact", "name", name):
                if all(existing.get(key) == value for key, value in details.items()):
                    return public(existing), False
            contact = {"id": random_id("cont_"), "entity": "contact", **details,
                       "batch_id": None, "active": True, "notes": notes_of(body.get("notes")),
                       "created_at": now_ts()}
            await self.store.put("contact", contact)
        return public(contact), True

    async def create_fund_account(self, body: dict[str, Any]) -> tuple[Entity, bool]:
        refuse_unknown(body, FUND_ACCOUNT_FIELDS)
        contact_id = _text(body, "contact_id", 40, required=True)
        if body.get("account_type") != "bank_account":
            raise invalid("The sandbox supports the account_type bank_account only.", "account_type")
        bank = body.get("bank_account")
        if not isinstance(bank, dict):
            raise invalid("The bank_account field is required.", "bank_account")
        refuse_unknown(bank, BANK_ACCOUNT_FIELDS)
        name = _text(bank, "name", 120, required=True)
        ifsc, number = bank.get("ifsc"), bank.get("account_number")
        if not isinstance(ifsc, str) or not IFSC.fullmatch(ifsc):
            raise invalid("The ifsc must be a valid IFSC code.", "ifsc")
        if not isinstance(number, str) or not BANK_ACCOUNT_NUMBER.fullmatch(number):
            raise invalid("The account number is invalid.", "account_number")
        account = {"ifsc": ifsc, "bank_name": f"{ifsc[:4]} Bank", "name": name,
                   "account_number": number, "notes": []}
        async with self.store.locked():
            if await self.store.get("contact", contact_id) is None:
                raise no_such_id()
            for existing in await self.store.find("fund_account", "contact_id", contact_id):
                if existing["bank_account"] == account:
                    return public(existing), False
            fund_account = {"id": random_id("fa_"), "entity": "fund_account",
                            "contact_id": contact_id, "account_type": "bank_account",
                            "bank_account": account, "batch_id": None, "active": True,
                            "created_at": now_ts()}
            await self.store.put("fund_account", fund_account)
        return public(fund_account), True

    async def get_contact(self, contact_id: str) -> Entity:
        return public(await self._entity("contact", contact_id))

    async def get_fund_account(self, fund_account_id: str) -> Entity:
        return public(await self._entity("fund_account", fund_account_id))

    # --- payouts ---------------------------------------------------------------------------

    async def create_payout(self, body: dict[str, Any], key: str | None) -> tuple[Entity, bool]:
        """A new payout, or the one first made under `key` (same body only); (payout, new)."""
        if key is None:
            raise invalid("Idempotency key is missing. Include idempotency header and key in "
                          "the request.", IDEMPOTENCY_HEADER)
        if not PAYOUT_KEY.fullmatch(key):
            raise invalid("The idempotency key is invalid.", IDEMPOTENCY_HEADER)
        fingerprint = json.dumps(body, sort_keys=True)
        async with self.store.locked():
            previous = await self.store.get_payout_key(key)
            if previous is not None:
                if previous.fingerprint != fingerprint:
                    raise invalid("Different request body sent for the same idempotency key",
                                  IDEMPOTENCY_HEADER)
                return public(await self._entity("payout", previous.payout_id)), False
            payout = await self._new_payout(body)
            await self.store.put("payout", payout)
            await self.store.put_payout_key(key, PayoutKey(fingerprint, payout["id"]))
        return public(payout), True

    async def _new_payout(self, body: dict[str, Any]) -> Entity:
        refuse_unknown(body, PAYOUT_FIELDS)
        if body.get("account_number") != self.account_number:
            raise invalid("The account number is not a business account of this merchant.",
                          "account_number")
        fund_account = await self._entity("fund_account", str(body.get("fund_account_id")))
        if not fund_account["active"]:
            raise not_allowed("The fund account is not active.")
        amount = amount_of(body.get("amount"))
        if body.get("currency") != self.currency:
            raise invalid("The selected currency is invalid.", "currency")
        if body.get("mode") not in BANK_MODES:
            raise invalid("Invalid mode for a bank account fund account.", "mode")
        if body.get("purpose") not in PURPOSES:
            raise invalid("The purpose is invalid.", "purpose")
        narration = body.get("narration")
        if narration is not None and (not isinstance(narration, str)
                                      or not NARRATION.fullmatch(narration)):
            raise invalid("The narration may contain up to 30 letters, digits and spaces.",
                          "narration")
        return {
            "id": random_id("pout_"), "entity": "payout", "fund_account_id": fund_account["id"],
            "amount": amount, "currency": self.currency, "notes": notes_of(body.get("notes")),
            "fees": 0, "tax": 0, "status": "processing", "purpose": body["purpose"],
            "utr": None, "mode": body["mode"], "reference_id": _text(body, "reference_id", 40),
            "narration": narration, "batch_id": None, "failure_reason": None,
            "status_details": None, "created_at": now_ts(),
            "_account_number": fund_account["bank_account"]["account_number"],
        }

    async def get_payout(self, payout_id: str) -> Entity:
        return public(await self._entity("payout", payout_id))

    async def settle(
        self, payout_id: str, outcome: PayoutOutcome, description: str | None = None
    ) -> tuple[Entity, list[WebhookEventRecord]]:
        """The bank's answer to a processing payout, and its `payout.<outcome>` event."""
        async with self.store.locked():
            payout = await self._entity("payout", payout_id)
            if payout["status"] != "processing":
                raise not_allowed(f"The payout is already {payout['status']}")
            payout["status"] = outcome
            if outcome == "processed":
                payout["utr"] = str(secrets.randbelow(10**12)).zfill(12)
            else:
                details = dict(STATUS_DETAILS[outcome])
                if description:
                    details["description"] = description
                payout["status_details"] = details
                payout["failure_reason"] = details["description"]
            await self.store.put("payout", payout)
            event = await self.dispatcher.record(f"payout.{outcome}", {"payout": public(payout)})
        return public(payout), [event]

    async def settle_automatically(self, payout_id: str) -> None:
        """Background work after a new payout's answer, when `auto_process_payouts` is on."""
        payout = await self._entity("payout", payout_id)
        rejected = payout["_account_number"].endswith(REJECTING_SUFFIX)
        try:
            _, events = await self.settle(payout_id, "reversed" if rejected else "processed")
        except RazorpayApiError:  # settled through the control meanwhile
            return
        await self.dispatcher.deliver_in_order(events)

    async def event_for(self, event: str, payout_id: str | None) -> WebhookEventRecord:
        """A signed event about an existing payout, shown in the state the event announces."""
        if event not in PAYOUT_EVENTS:
            raise invalid(f"Unsupported event: {event}", "event")
        if not payout_id:
            raise invalid(f"payoutId is required for {event}", "payoutId")
        payout = public(await self._entity("payout", payout_id))
        payout["status"] = event.removeprefix("payout.")
        return await self.dispatcher.record(event, {"payout": payout})

    async def _entity(self, kind: Literal["contact", "fund_account", "payout"], entity_id: str) -> Entity:
        entity = await self.store.get(kind, entity_id)
        if entity is None:
            raise no_such_id()
        return entity
