"""The exception tree of Redline.

Decisions (allow / review / block) are values; errors are exceptions. Every error raised by
Redline's own code derives from :class:`GatewayError`; foreign exceptions are mapped at one
boundary each (``upstream.openai_http.map_transport_errors``, the ASGI error boundary, the CLI).
Edges map classes to HTTP statuses (``gateway/errors.py``) and exit codes (``cli``) in one
table each.

::

    GatewayError
    ├── ConfigError                  bad settings at start-up
    ├── RequestError                 a client request we refuse to process (.param names the field)
    │   ├── RequestTooLarge          body over the configured limit
    │   ├── RequestTooComplex        too deep, too many messages or parts (bounded work)
    │   ├── RequestTimeout           a large body arrived too slowly
    │   ├── UnscreenableInput        content the safety stack cannot read (token ids)
    │   ├── ModelNotFound            no route for the requested model
    │   └── MetadataError            malformed purpose / authority / case metadata
    ├── AuthenticationError          missing, unknown or revoked credential
    ├── AccessDenied                 principal / route does not dominate the request label
    │   └── OutputWithheld           the answer is marked above the principal or the route
    ├── AuthorityInvalid             a cited authority is unknown, expired, revoked or out of scope
    ├── AuthorityRegisterError       the authority register cannot be read or does not verify
    ├── ReceiptNotFound              no decision is logged for the requested id
    ├── MarkingError                 a classification marking is unknown or illegal (.token, .rule)
    ├── HaltedError                  the kill switch stops this traffic (.reason)
    ├── GatewayBusy                  too many large requests already waiting; retry later
    ├── OutputBlocked                a streamed answer crossed a red line; the stream ends
    ├── PolicyError
    │   ├── PolicyParseError         file, key path, message
    │   └── PolicyValidationError    semantically invalid or loosens the floor
    ├── ClassifierError              raised inside the safety stack; converted to fail-closed
    │   └── ClassifierTimeout
    ├── UpstreamError                produced only by upstream.openai_http.map_transport_errors()
    │   ├── UpstreamTimeout
    │   ├── UpstreamUnavailable
    │   └── UpstreamResponseError    .status_code, .body (OpenAI-shaped error passed through)
    ├── ReviewError
    │   ├── ReviewItemNotFound
    │   └── InvalidTransition
    ├── StoreError                   persistence failed (keys, reviews, halt state)
    └── AuditError
        ├── AuditStoreError          I/O: the decision cannot be recorded -> refuse
        └── VerificationError        the one type verifier callers catch
            ├── ProofError
            ├── InconsistencyError   two signed heads that cannot both be honest
            └── SignatureError
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "AuditError",
    "AuditStoreError",
    "AuthenticationError",
    "AuthorityInvalid",
    "AuthorityRegisterError",
    "ClassifierError",
    "ClassifierTimeout",
    "ConfigError",
    "GatewayBusy",
    "GatewayError",
    "HaltedError",
    "InconsistencyError",
    "InvalidTransition",
    "MarkingError",
    "MetadataError",
    "ModelNotFound",
    "OutputBlocked",
    "OutputWithheld",
    "PolicyError",
    "PolicyParseError",
    "PolicyValidationError",
    "ProofError",
    "ReceiptNotFound",
    "RequestError",
    "RequestTimeout",
    "RequestTooComplex",
    "RequestTooLarge",
    "ReviewError",
    "ReviewItemNotFound",
    "SignatureError",
    "StoreError",
    "UnscreenableInput",
    "UpstreamError",
    "UpstreamResponseError",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "VerificationError",
]


class GatewayError(Exception):
    """Base class of every error Redline raises on purpose."""


class ConfigError(GatewayError):
    """Settings or the configuration file are invalid; raised at start-up."""


class RequestError(GatewayError):
    """A client request is malformed; ``param`` names the offending field when known."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class RequestTooLarge(RequestError):
    """The request body exceeds the configured limit."""


class RequestTooComplex(RequestError):
    """The request nests too deeply or carries too many messages or parts to screen."""


class UnscreenableInput(RequestError):
    """The request carries content the safety stack cannot read (e.g. token-id prompts)."""


class RequestTimeout(RequestError):
    """The request body did not arrive in time."""


class ModelNotFound(RequestError):
    """The requested model has no route."""


class MetadataError(RequestError):
    """Purpose, authority or case metadata is malformed (header or ``metadata`` key)."""


class AuthenticationError(GatewayError):
    """Missing, unknown or revoked credential."""


class AccessDenied(GatewayError):
    """The principal or the route may not handle a request at this classification."""


class OutputWithheld(AccessDenied):
    """The model's answer carries a marking the principal or the route may not receive."""


class AuthorityInvalid(GatewayError):
    """A cited authority does not check out against the register.

    ``problems`` lists each reference with what is wrong (unknown, revoked, not yet in
    force, expired, out of scope); the references are as the requester gave them.
    """

    def __init__(self, message: str, *, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class AuthorityRegisterError(GatewayError):
    """The authority register cannot be read, parsed or verified (fail closed)."""


class ReceiptNotFound(GatewayError):
    """No audit event is logged for the request id a receipt was asked for."""


class MarkingError(GatewayError):
    """A classification marking could not be parsed or breaks a marking rule.

    Markings are never repaired silently: the error names the offending ``token`` (as
    normalised by the parser, or ``""`` when the problem is the marking as a whole) and the
    ``rule`` it breaks (an IC-ISM rule id or a named grammar rule, DOMAIN.md §2).
    """

    def __init__(self, message: str, *, token: str = "", rule: str = "") -> None:
        super().__init__(message)
        self.token = token
        self.rule = rule


class HaltedError(GatewayError):
    """The kill switch stops this traffic; ``reason`` is shown to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GatewayBusy(GatewayError):
    """Too many large requests are already waiting for the CPU lane; retry later."""


class OutputBlocked(GatewayError):
    """A streamed answer crossed a red line mid-stream; ``message`` names it and the clause."""


class PolicyError(GatewayError):
    """A policy could not be loaded."""


class PolicyParseError(PolicyError):
    """A policy file is not well-formed; names the file and the key path."""

    def __init__(self, message: str, *, source: str = "<policy>", key_path: str = "") -> None:
        where = f"{source}: {key_path}: " if key_path else f"{source}: "
        super().__init__(where + message)
        self.source = source
        self.key_path = key_path


class PolicyValidationError(PolicyError):
    """A policy is well-formed but invalid (e.g. it loosens the provider floor)."""


class ClassifierError(GatewayError):
    """A classifier failed; the pipeline turns this into a fail-closed verdict."""


class ClassifierTimeout(ClassifierError):
    """A classifier did not answer within its budget."""


class UpstreamError(GatewayError):
    """The model back end failed."""


class UpstreamTimeout(UpstreamError):
    """The back end did not answer in time."""


class UpstreamUnavailable(UpstreamError):
    """The back end could not be reached or broke the connection."""


class UpstreamResponseError(UpstreamError):
    """The back end answered with an HTTP error; its body is passed through."""

    def __init__(self, message: str, *, status_code: int, body: bytes = b"") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class ReviewError(GatewayError):
    """A review operation failed."""


class ReviewItemNotFound(ReviewError):
    """No such review item (or the caller may not see it)."""


class InvalidTransition(ReviewError):
    """The review state machine does not allow this transition."""


class StoreError(GatewayError):
    """Persistent storage failed."""


class AuditError(GatewayError):
    """The audit log failed."""


class AuditStoreError(AuditError):
    """An audit record could not be made durable; the request must be refused."""


class VerificationError(AuditError):
    """Evidence did not verify."""


class ProofError(VerificationError):
    """A proof is malformed, has the wrong length, or does not reach the root."""


class InconsistencyError(VerificationError):
    """Two signed tree heads cannot both be honest: evidence of a fork."""


class SignatureError(VerificationError):
    """A signature is missing, malformed or does not verify."""
