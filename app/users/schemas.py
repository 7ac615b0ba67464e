from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict, EmailStr, Field, field_validator, model_validator

from app.core.permissions import AccountStatus, AdminScope, Role
from app.core.schemas import APIModel
from app.core.validators import Gstin, NewPassword, Phone, Reason
from app.users.models import BusinessVerification, BuyerType


def _lower_email(value: str) -> str:
    return value.strip().lower()


class BusinessIn(APIModel):
    legal_name: str = Field(min_length=2, max_length=200)
    gstin: Gstin


class SignupIn(APIModel):
    email: EmailStr
    password: NewPassword
    role: Literal["dealer", "technician", "customer"]
    name: str | None = Field(
        default=None, min_length=1, max_length=120,
        description="Optional: set or change it later with PATCH /api/users/me",
    )
    phone: Phone | None = Field(
        default=None, description="Optional: set or change it later with PATCH /api/users/me"
    )
    business: BusinessIn | None = Field(
        default=None, description="Customers and technicians: applies to buy B2B once an admin verifies it"
    )

    _email = field_validator("email")(_lower_email)


class AdminCreateIn(APIModel):
    email: EmailStr
    password: NewPassword
    name: str = Field(min_length=1, max_length=120)
    scopes: list[AdminScope] = Field(min_length=1, max_length=len(AdminScope))

    _email = field_validator("email")(_lower_email)


class BusinessRead(APIModel):
    legal_name: str
    gstin: str
    verification: BusinessVerification
    reason: str | None = None
    verified_at: datetime | None = None


class UserRead(APIModel):
    id: str
    email: str
    role: Role
    name: str | None = None
    phone: str | None = None
    status: AccountStatus
    status_reason: str | None = None
    scopes: list[str]
    business: BusinessRead | None = None
    buyer_type: BuyerType
    created_at: datetime
    updated_at: datetime


def _non_null(schema: dict[str, Any]) -> None:
    """Document an optional field as its non-null type: leaving it out is how to keep it."""
    branches = schema.pop("anyOf", [])
    schema.update(next(branch for branch in branches if branch.get("type") != "null"))
    schema.pop("default", None)


class ProfileUpdate(APIModel):
    """What an account edits of itself: its name and phone (null clears the phone)."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    # Absent means unchanged; a name can be changed but not cleared (no null in the schema).
    name: str | None = Field(default=None, min_length=1, max_length=120,
                             json_schema_extra=_non_null)
    phone: Phone | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> "ProfileUpdate":
        if not self.model_fields_set:
            raise ValueError("send at least one of name, phone")
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be cleared, only changed")
        return self


class StatusChangeIn(APIModel):
    status: Literal["active", "suspended", "blocked"]
    reason: Reason | None = None
    override: bool = Field(
        default=False,
        description="ops_lead override of a rule that would refuse (e.g. reinstating a blocked "
        "account); needs a reason and is recorded as an override",
    )


class BusinessVerificationAction(StrEnum):
    VERIFY = "verify"
    REJECT = "reject"


class BusinessVerificationIn(APIModel):
    action: BusinessVerificationAction
    reason: Reason | None = None


class PasswordChangeIn(APIModel):
    current_password: str = Field(min_length=1, max_length=128)
    new_password: NewPassword


class PasswordChanged(APIModel):
    ended_sessions: int = Field(description="Other sign-in sessions of the account now ended")


class SessionRead(APIModel):
    """One live sign-in session: where it started, from which app install, when last refreshed."""

    id: str
    device_id: str | None = None
    ip: str | None = Field(default=None, description="As of the sign-in or the last refresh")
    user_agent: str | None = None
    created_at: datetime
    last_used_at: datetime = Field(description="The sign-in or the last token refresh")
    current: bool = Field(description="The session of the access token making this request")
