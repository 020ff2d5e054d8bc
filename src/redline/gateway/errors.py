"""Exception class -> (HTTP status, OpenAI error type, code): the one table of the web edge."""

from __future__ import annotations

import orjson

from redline.errors import (
    AccessDenied,
    AuditError,
    AuthenticationError,
    AuthorityInvalid,
    AuthorityRegisterError,
    ClassifierError,
    GatewayBusy,
    GatewayError,
    HaltedError,
    InvalidTransition,
    MarkingError,
    MetadataError,
    ModelNotFound,
    OutputBlocked,
    OutputWithheld,
    PolicyError,
    ReceiptNotFound,
    RequestError,
    RequestTimeout,
    RequestTooComplex,
    RequestTooLarge,
    ReviewItemNotFound,
    StoreError,
    UnscreenableInput,
    UpstreamResponseError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from redline.wire import error_body

__all__ = ["error_response_parts"]

# Most specific classes first: the first isinstance match wins.
_TABLE: tuple[tuple[type[GatewayError], int, str, str | None], ...] = (
    (RequestTooLarge, 413, "invalid_request_error", "request_too_large"),
    (RequestTooComplex, 413, "invalid_request_error", "request_too_complex"),
    (RequestTimeout, 408, "invalid_request_error", "request_timeout"),
    (UnscreenableInput, 400, "invalid_request_error", "redline_unscreenable_input"),
    (ModelNotFound, 404, "invalid_request_error", "model_not_found"),
    (MetadataError, 400, "invalid_request_error", "redline_invalid_metadata"),
    (RequestError, 400, "invalid_request_error", None),
    (AuthenticationError, 401, "invalid_request_error", "invalid_api_key"),
    (OutputWithheld, 403, "permission_error", "redline_output_withheld"),
    (AccessDenied, 403, "permission_error", "redline_access_denied"),
    (AuthorityInvalid, 403, "permission_error", "redline_authority_invalid"),
    (MarkingError, 400, "invalid_request_error", "redline_invalid_marking"),
    (ReviewItemNotFound, 404, "invalid_request_error", "review_not_found"),
    (ReceiptNotFound, 404, "invalid_request_error", "redline_receipt_not_found"),
    (HaltedError, 503, "service_unavailable", "redline_halted"),
    (GatewayBusy, 503, "service_unavailable", "redline_busy"),
    (OutputBlocked, 403, "redline_policy", "redline_blocked"),
    (InvalidTransition, 409, "invalid_request_error", "redline_invalid_transition"),
    (UpstreamTimeout, 504, "upstream_error", "upstream_timeout"),
    (UpstreamUnavailable, 502, "upstream_error", "upstream_error"),
    (UpstreamResponseError, 502, "upstream_error", "upstream_error"),
    # Fail closed: the safety stack, the policy or the audit log could not do their job.
    (ClassifierError, 503, "service_unavailable", "redline_screening_unavailable"),
    (PolicyError, 503, "service_unavailable", "redline_policy_unavailable"),
    (AuditError, 503, "service_unavailable", "redline_audit_unavailable"),
    (StoreError, 503, "service_unavailable", "redline_store_unavailable"),
    (AuthorityRegisterError, 503, "service_unavailable", "redline_authority_register_unavailable"),
)


def error_response_parts(exc: GatewayError) -> tuple[int, bytes]:
    """The HTTP status and OpenAI-shaped body for a Redline error."""
    if isinstance(exc, UpstreamResponseError) and 400 <= exc.status_code < 500:
        return exc.status_code, _passthrough_body(exc)
    for cls, status, type_, code in _TABLE:
        if isinstance(exc, cls):
            param = exc.param if isinstance(exc, RequestError) else None
            return status, error_body(str(exc), type_=type_, code=code, param=param)
    return 500, error_body("internal error", type_="server_error", code="internal_error")


def _passthrough_body(exc: UpstreamResponseError) -> bytes:
    """Upstream 4xx: keep its OpenAI-shaped error body; wrap anything else."""
    try:
        data = orjson.loads(exc.body)
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return exc.body
    if isinstance(data, dict) and isinstance(data.get("error"), str):  # Ollama/vLLM style
        return error_body(data["error"], type_="invalid_request_error", code="upstream_error")
    return error_body(str(exc), type_="invalid_request_error", code="upstream_error")
