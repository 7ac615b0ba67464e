"""Razorpay's error object: `{"error": {"code", "description", "source", "step", "reason",
"metadata", "field"?}}`."""

from typing import Any

from fastapi.responses import JSONResponse


class RazorpayApiError(Exception):
    def __init__(
        self,
        description: str,
        *,
        status_code: int = 400,
        code: str = "BAD_REQUEST_ERROR",
        source: str = "business",
        step: str = "payment_initiation",
        reason: str = "input_validation_failed",
        field: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.status_code = status_code
        self.code = code
        self.source = source
        self.step = step
        self.reason = reason
        self.field = field
        self.metadata = metadata or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.code,
            "description": self.description,
            "source": self.source,
            "step": self.step,
            "reason": self.reason,
            "metadata": self.metadata,
        }
        if self.field:
            error["field"] = self.field
        return {"error": error}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status_code)


def invalid(description: str, field: str | None = None) -> RazorpayApiError:
    """A request Razorpay would refuse as input_validation_failed (400)."""
    return RazorpayApiError(description, field=field)


def no_such_id() -> RazorpayApiError:
    return RazorpayApiError("The id provided does not exist")


def not_allowed(description: str, reason: str = "input_validation_failed") -> RazorpayApiError:
    """An action the entity's state does not allow (Razorpay answers these with 400 too)."""
    return RazorpayApiError(description, reason=reason)


def authentication_failed(description: str) -> RazorpayApiError:
    return RazorpayApiError(description, status_code=401, source="NA", step="NA", reason="NA")
