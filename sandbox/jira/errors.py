"""Jira's error shape: `{"errorMessages": [...], "errors": {field: message}}`."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

STATUS_MESSAGES = {
    400: "The request is invalid.",
    401: "You are not authenticated. Authentication required to perform this operation.",
    403: "You do not have permission to perform this operation.",
    404: "The requested resource does not exist.",
    410: "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.",
    429: "Rate limit exceeded.",
    500: "Internal server error.",
    502: "Bad gateway.",
    503: "Service unavailable.",
}


class JiraApiError(Exception):
    """An error the emulator answers with Jira's error body."""

    def __init__(
        self, status: int, message: str = "", errors: dict[str, str] | None = None
    ) -> None:
        super().__init__(message or STATUS_MESSAGES.get(status, "Error."))
        self.status = status
        self.messages = [message] if message else ([] if errors else [str(self)])
        self.errors = errors or {}

    def response(self) -> JSONResponse:
        """The HTTP response Jira would send."""
        return JSONResponse(
            {"errorMessages": self.messages, "errors": self.errors}, status_code=self.status
        )


def error_body(status: int) -> dict[str, Any]:
    """The body of an injected error status (for FaultInjector)."""
    return {"errorMessages": [STATUS_MESSAGES.get(status, "Error.")], "errors": {}}


def not_found(what: str) -> JiraApiError:
    """Jira's 404 for a missing issue, version or project."""
    return JiraApiError(404, f"{what} does not exist or you do not have permission to see it.")
