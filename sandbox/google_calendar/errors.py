"""Google's error shape: `{"error": {"code", "message", "errors": [...], "status"}}`."""

from __future__ import annotations

from typing import Any

# status -> (domain, reason, message, RPC status) as the Calendar API answers them.
DEFAULTS: dict[int, tuple[str, str, str, str]] = {
    400: ("global", "badRequest", "Bad Request", "INVALID_ARGUMENT"),
    401: ("global", "required", "Login Required.", "UNAUTHENTICATED"),
    403: ("usageLimits", "rateLimitExceeded", "Rate Limit Exceeded", "PERMISSION_DENIED"),
    404: ("global", "notFound", "Not Found", "NOT_FOUND"),
    409: ("global", "duplicate", "The requested identifier already exists.", "ALREADY_EXISTS"),
    410: (
        "calendar",
        "fullSyncRequired",
        "Sync token is no longer valid, a full sync is required.",
        "FAILED_PRECONDITION",
    ),
    412: ("global", "conditionNotMet", "Precondition Failed", "FAILED_PRECONDITION"),
    429: ("usageLimits", "rateLimitExceeded", "Rate Limit Exceeded", "RESOURCE_EXHAUSTED"),
    500: ("global", "backendError", "Backend Error", "INTERNAL"),
    501: ("global", "notImplemented", "Not Implemented", "UNIMPLEMENTED"),
    503: ("global", "backendError", "Backend Error", "UNAVAILABLE"),
}


class ApiError(Exception):
    """An error the emulator answers with, in Google's shape."""

    def __init__(
        self,
        status: int,
        reason: str | None = None,
        message: str | None = None,
        domain: str | None = None,
    ):
        default_domain, default_reason, default_message, _ = DEFAULTS.get(status, DEFAULTS[500])
        self.status = status
        self.domain = domain or default_domain
        self.reason = reason or default_reason
        self.message = message or default_message
        super().__init__(f"{status} {self.reason}: {self.message}")

    def body(self) -> dict[str, Any]:
        """The JSON body Google sends for this error."""
        rpc_status = DEFAULTS.get(self.status, DEFAULTS[500])[3]
        detail = {"domain": self.domain, "reason": self.reason, "message": self.message}
        return {
            "error": {
                "code": self.status,
                "message": self.message,
                "errors": [detail],
                "status": rpc_status,
            }
        }


def error_body(status: int) -> dict[str, Any]:
    """The body of an injected fault (FaultInjector's `error_body`); 403 is rateLimitExceeded."""
    return ApiError(status).body()


def bad_request(message: str, reason: str = "invalid") -> ApiError:
    """A 400 naming what is wrong with the request."""
    return ApiError(400, reason, message)


def writer_required() -> ApiError:
    """The 403 Google answers a change to a calendar the caller may only read."""
    return ApiError(
        403, "requiredAccessLevel", "You need to have writer access to this calendar.", "calendar"
    )
