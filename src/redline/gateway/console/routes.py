"""Reviewer console pages (server-rendered with jinja2, no JavaScript).

Routes, all under ``/console``:

* ``GET/POST /login``: sign in with an API key whose principal has the ``reviewer`` role;
* ``GET /``: the queue, overrides of red-line blocks first, then oldest first;
* ``GET /items/{id}``: the conversation, label banner, categories, scores, evidence and
  policy clauses, with approve / deny forms;
* ``POST /items/{id}/decide``: ``decision=approve|deny``, ``rationale``, ``csrf_token``;
* ``POST /logout``;
* ``GET /oversight``: for the read-only ``auditor`` role, the oversight report computed
  live from the audit log (the figures ``redline report`` computes from an export);
* ``GET /oversight/receipt?request_id=ID``: the signed receipt of a decision, as a download.

A principal with the ``reviewer`` role decides held requests; one with the ``auditor`` role
reads the oversight pages; an auditor who is not also a reviewer sees no queue and no item
(404, like unknown ids), and a reviewer who is not an auditor gets 403 on the oversight pages.

Security properties:

* the session cookie ``redline_console`` carries only a random id (server-side session,
  :mod:`~redline.gateway.console.sessions`) and is ``HttpOnly; Secure; SameSite=Strict;
  Path=/console``. Browsers send ``Secure`` cookies only over HTTPS, except to
  ``localhost`` / ``127.0.0.1`` (potentially trustworthy origins): serve the console over
  TLS or on loopback;
* every POST carries a CSRF token in a hidden field, compared with
  :func:`hmac.compare_digest`: the per-session token, or for the login form a
  double-submit token (``redline_login`` cookie). A missing or wrong token is a 403;
* every request re-reads the signed-in key: a revoked key or a key that lost the reviewer
  role ends the session;
* items the reviewer may not see are 404, exactly like unknown ids; no prompt content ever
  appears in a URL or a log line (logs carry review ids and principal ids only);
* responses carry ``Cache-Control: no-store`` and a strict Content-Security-Policy
  (no scripts at all, styles from this origin, forms post to this origin only).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from redline.clock import rfc3339
from redline.domain import Principal
from redline.errors import (
    AccessDenied,
    AuthenticationError,
    GatewayError,
    InvalidTransition,
    MarkingError,
    ReceiptNotFound,
    RequestError,
    ReviewItemNotFound,
)
from redline.gateway.frame import services_of
from redline.gateway.identity import client_certificate
from redline.gateway.oversight_api import AUDITOR_ROLE
from redline.gateway.review_api import ReviewWeb
from redline.ids import is_valid_request_id
from redline.markings import join, parse_marking
from redline.policy.model import RuleKind
from redline.report.svg import chart_svg
from redline.review import MAX_RATIONALE_CHARS, ReviewItem, can_decide, is_reviewer
from redline.service.auth import parse_api_key
from redline.wire import parse_held

__all__ = ["SESSION_COOKIE", "console_mount"]

logger = logging.getLogger(__name__)

SESSION_COOKIE = "redline_console"
LOGIN_COOKIE = "redline_login"
_PATH = "/console"
_CERT_SESSION = "cert:"  # session key ids of certificate sign-ins: cert:<sha256 of DER>
#: Largest form body accepted (a full-length rationale, percent-encoded, fits easily).
MAX_FORM_BYTES = 64 * 1024
_HERE = Path(__file__).parent
_ENV = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_HEADERS = {
    "cache-control": "no-store",
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def console_mount() -> Mount:
    """The console as one mount at ``/console``."""
    return Mount(
        _PATH,
        routes=[
            Route("/", _queue, methods=["GET"]),
            Route("/login", _login_form, methods=["GET"]),
            Route("/login", _login, methods=["POST"]),
            Route("/logout", _logout, methods=["POST"]),
            Route("/items/{review_id}", _item, methods=["GET"]),
            Route("/items/{review_id}/decide", _decide, methods=["POST"]),
            Route("/oversight", _oversight, methods=["GET"]),
            Route("/oversight/receipt", _receipt, methods=["GET"]),
            Mount("/static", StaticFiles(directory=_HERE / "static"), name="console-static"),
        ],
    )


# -- helpers ---------------------------------------------------------------------------


def _page(template: str, status: int = 200, **context: object) -> Response:
    html = _ENV.get_template(template).render(max_rationale=MAX_RATIONALE_CHARS, **context)
    response = Response(html, status_code=status, media_type="text/html; charset=utf-8")
    response.headers.update(_HEADERS)
    return response


def _error(status: int, message: str, **context: object) -> Response:
    return _page("error.html", status, code=status, message=message, **context)


def _set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=_PATH, secure=True, httponly=True, samesite="strict"
    )


def _redirect(url: str) -> Response:
    response = RedirectResponse(url, status_code=303)
    response.headers.update(_HEADERS)
    return response


async def _form(request: Request) -> dict[str, str]:
    """The url-encoded form, bounded in size; one value per field (the first).

    Raises:
        RequestError: the body is too large or not UTF-8 url-encoded.
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise RequestError(f"the form is larger than {MAX_FORM_BYTES} bytes")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_FORM_BYTES:
            raise RequestError(f"the form is larger than {MAX_FORM_BYTES} bytes")
    try:
        fields = parse_qs(raw.decode("ascii"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise RequestError("the form is not url-encoded") from exc
    return {name: values[0] for name, values in fields.items()}


def _token_ok(presented: str | None, expected: str) -> bool:
    if not presented or not expected:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())


async def _reviewer(request: Request) -> tuple[Principal, str, str] | None:
    """The signed-in reviewer, their session id and CSRF token; None if not signed in."""
    web: ReviewWeb = services_of(request).review
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    session = web.sessions.get(session_id, web.clock.now())
    if session is None:
        return None
    if session.key_id.startswith(_CERT_SESSION):
        principal = _certificate_principal(request)
        bound = _CERT_SESSION + _cert_digest(client_certificate(request))
        if principal is None or not hmac.compare_digest(bound, session.key_id):
            web.sessions.delete(session_id)  # a certificate session lives on its certificate
            return None
        return principal, session_id, session.csrf_token
    key = await web.keys.lookup(session.key_id)
    if key is None or key.revoked_at is not None or not _may_sign_in(key.principal):
        web.sessions.delete(session_id)
        return None
    return key.principal, session_id, session.csrf_token


def _may_sign_in(principal: Principal) -> bool:
    """Reviewers decide held requests; auditors read the oversight pages."""
    return is_reviewer(principal) or AUDITOR_ROLE in principal.roles


def _to_login() -> Response:
    return _redirect(_PATH + "/login")


# -- sign in and out -------------------------------------------------------------------


async def _login_form(request: Request, *, status: int = 200, message: str = "") -> Response:
    token = secrets.token_urlsafe(32)
    response = _page("login.html", status, csrf_token=token, message=message)
    _set_cookie(response, LOGIN_COOKIE, token, max_age=900)
    return response


async def _login(request: Request) -> Response:
    try:
        form = await _form(request)
    except RequestError as exc:
        return _error(413, str(exc))
    if not _token_ok(form.get("csrf_token"), request.cookies.get(LOGIN_COOKIE, "")):
        logger.warning("console login refused: bad CSRF token")
        return _error(403, "The form has expired or did not come from this console.")
    presented = form.get("api_key", "").strip()
    if not presented:
        return _login_by_certificate(request)
    return await _login_by_key(request, presented)


async def _login_by_key(request: Request, presented: str) -> Response:
    """Sign in with an API key of a reviewer principal."""
    web: ReviewWeb = services_of(request).review
    try:
        principal = await web.authenticator.authenticate("Bearer " + presented)
        key_id, _ = parse_api_key(presented)
    except AuthenticationError:
        logger.info("console login refused: invalid key")
        return await _login_form(request, status=401, message="Invalid API key.")
    except GatewayError:
        return await _login_form(request, status=503, message="Sign-in is unavailable.")
    if not _may_sign_in(principal):
        logger.info("console login refused: not a reviewer principal=%s", principal.id)
        return await _login_form(
            request, status=403, message="This key does not have the reviewer role."
        )
    session_id, _ = web.sessions.create(key_id, web.clock.now())
    logger.info("console sign-in principal=%s", principal.id)
    response = _redirect(_PATH + "/")
    _set_cookie(response, SESSION_COOKIE, session_id, max_age=12 * 3600)
    response.delete_cookie(LOGIN_COOKIE, path=_PATH, secure=True, httponly=True, samesite="strict")
    return response


def _cert_digest(der: bytes | None) -> str:
    return hashlib.sha256(der or b"").hexdigest()


def _certificate_principal(request: Request) -> Principal | None:
    """The principal of the connection's client certificate (mTLS), if it maps to one."""
    der = client_certificate(request)
    certificates = services_of(request).certificates
    if der is None or certificates is None:
        return None
    try:
        principal: Principal = certificates.authenticate(der)
    except AuthenticationError:
        return None
    return principal


def _login_by_certificate(request: Request) -> Response:
    """Sign in with the TLS client certificate; the session is bound to that certificate."""
    web: ReviewWeb = services_of(request).review
    principal = _certificate_principal(request)
    if principal is None:
        return _error(401, "Enter an API key, or connect with a registered client certificate.")
    if not _may_sign_in(principal):
        logger.info("console login refused: not a reviewer principal=%s", principal.id)
        return _error(403, "This certificate's principal does not have the reviewer role.")
    der = client_certificate(request)
    session_id, _ = web.sessions.create(_CERT_SESSION + _cert_digest(der), web.clock.now())
    logger.info("console sign-in by certificate principal=%s", principal.id)
    response = _redirect(_PATH + "/")
    _set_cookie(response, SESSION_COOKIE, session_id, max_age=12 * 3600)
    response.delete_cookie(LOGIN_COOKIE, path=_PATH, secure=True, httponly=True, samesite="strict")
    return response


async def _logout(request: Request) -> Response:
    web: ReviewWeb = services_of(request).review
    signed_in = await _reviewer(request)
    if signed_in is None:
        return _to_login()
    principal, session_id, csrf = signed_in
    try:
        form = await _form(request)
    except RequestError as exc:
        return _error(413, str(exc))
    if not _token_ok(form.get("csrf_token"), csrf):
        return _error(403, "The form has expired or did not come from this console.")
    web.sessions.delete(session_id)
    logger.info("console sign-out principal=%s", principal.id)
    response = _to_login()
    response.delete_cookie(
        SESSION_COOKIE, path=_PATH, secure=True, httponly=True, samesite="strict"
    )
    return response


# -- queue and items -------------------------------------------------------------------


def _banner(banners: list[str]) -> str:
    """The high-water mark of the labels on a page (unreadable labels fail closed)."""
    try:
        labels = [parse_marking(b) for b in banners] or [parse_marking("U")]
    except MarkingError:
        return "UNREADABLE MARKING - HANDLE AS HIGHEST CLASSIFICATION"
    return join(*labels).banner()


def _severity(item: ReviewItem) -> str:
    return "block override" if item.kind is RuleKind.OVERRIDE else "review hold"


async def _queue(request: Request) -> Response:
    web: ReviewWeb = services_of(request).review
    signed_in = await _reviewer(request)
    if signed_in is None:
        return _to_login()
    principal, _, csrf = signed_in
    if not is_reviewer(principal):  # an auditor's console is the oversight page
        return _redirect(_PATH + "/oversight")
    now = web.clock.now()
    items = await web.runtime.service.list_for(principal, now)
    rows = [
        {
            "id": item.id,
            "severity": _severity(item),
            "override": item.kind is RuleKind.OVERRIDE,
            "label": item.label_banner,
            "categories": ", ".join(item.decision.categories) or "-",
            "age": _age(now - item.created_at),
            "created": rfc3339(item.created_at),
            "approvals": f"{len(item.approvals)}/{item.approvals_required}",
            "own": item.requester.id == principal.id,
            "approved_by_me": principal.id in item.approvals,
        }
        for item in items
    ]
    return _page(
        "queue.html",
        rows=rows,
        banner=_banner([item.label_banner for item in items]),
        principal=principal,
        csrf_token=csrf,
    )


def _age(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


async def _requester_name(web: ReviewWeb, principal_id: str) -> str:
    """The requester as a reviewer knows it: the API key's label, else the principal id."""
    kind, _, key_id = principal_id.partition(":")
    if kind != "key":
        return principal_id
    key = await web.keys.lookup(key_id)
    return f"{key.label} ({principal_id})" if key is not None and key.label else principal_id


def _conversation(body: bytes | None) -> list[dict[str, str]]:
    """The held request as the safety stack read it (its canonical view): every turn with
    its tool calls, every tool definition and every other text field the model would see."""
    if body is None:
        return [{"role": "-", "text": "(the request body has been deleted after retention)"}]
    try:
        request = parse_held(body)
    except GatewayError as exc:
        return [{"role": "-", "text": f"(the stored request cannot be shown: {exc})"}]
    turns: list[dict[str, str]] = []
    for message in request.messages:
        role = f"{message.role} ({message.name})" if message.name else message.role
        lines = [message.text] if message.text else []
        lines += [f"[call {c.name}] {c.arguments}" for c in message.tool_calls]
        lines += ["[non-text part]"] * message.non_text_parts
        turns.append({"role": role, "text": "\n".join(lines)})
    for tool in request.tools:
        text = f"{tool.name}: {tool.description}\n{tool.parameters_json}"
        turns.append({"role": "tool definition", "text": text})
    turns += [{"role": f"field {f.where}", "text": f.text} for f in request.fields]
    return turns


async def _item(
    request: Request,
    *,
    status: int = 200,
    message: str = "",
    signed_in: tuple[Principal, str, str] | None = None,
) -> Response:
    web: ReviewWeb = services_of(request).review
    signed_in = signed_in or await _reviewer(request)
    if signed_in is None:
        return _to_login()
    principal, _, csrf = signed_in
    try:
        if not is_reviewer(principal):
            raise ReviewItemNotFound("not a reviewer")
        item = await web.runtime.service.get_for(request.path_params["review_id"], principal)
    except ReviewItemNotFound:
        return _error(404, "No such review item.", principal=principal, csrf_token=csrf)
    body = await web.runtime.service.request_body_for(item)
    scores: Mapping[str, float] = item.decision.scores
    policy = services_of(request).control.policy.current
    texts = {c.id: c.text for c in policy.clauses}
    thresholds = {c.id: (c.review_threshold, c.block_threshold) for c in policy.categories}
    return _page(
        "item.html",
        status,
        item=item,
        banner=_banner([item.label_banner]),
        severity=_severity(item),
        conversation=_conversation(body),
        scores=[
            (name, score, *thresholds.get(name, (0.5, 0.8)))
            for name, score in sorted(scores.items(), key=lambda kv: -kv[1])
        ],
        clauses=[(c, texts.get(c, "")) for c in item.decision.clauses],
        requester=await _requester_name(web, item.requester.id),
        created=rfc3339(item.created_at),
        expires=rfc3339(item.expires_at),
        decisions=[
            {
                "reviewer": d.reviewer_id,
                "verdict": "approved" if d.approve else "denied",
                "rationale": d.rationale,
                "at": rfc3339(d.at),
            }
            for d in item.decisions
        ],
        can_decide=item.state.value == "pending"
        and can_decide(principal, item)
        and principal.id not in item.approvals,
        own=item.requester.id == principal.id,
        message=message,
        principal=principal,
        csrf_token=csrf,
    )


async def _decide(request: Request) -> Response:
    signed_in = await _reviewer(request)
    if signed_in is None:
        return _error(403, "Sign in to decide review items.")
    principal, _, csrf = signed_in
    if not is_reviewer(principal):
        return _error(404, "No such review item.", principal=principal, csrf_token=csrf)
    try:
        form = await _form(request)
    except RequestError as exc:
        return _error(413, str(exc), principal=principal, csrf_token=csrf)
    if not _token_ok(form.get("csrf_token"), csrf):
        logger.warning("console decision refused: bad CSRF token principal=%s", principal.id)
        return _error(403, "The form has expired or did not come from this console.")
    decision = form.get("decision")
    if decision not in ("approve", "deny"):
        return _error(400, "Choose approve or deny.", principal=principal, csrf_token=csrf)
    return await _apply(request, signed_in, approve=decision == "approve", form=form)


async def _apply(
    request: Request,
    signed_in: tuple[Principal, str, str],
    *,
    approve: bool,
    form: Mapping[str, str],
) -> Response:
    web: ReviewWeb = services_of(request).review
    principal, _, csrf = signed_in
    review_id = request.path_params["review_id"]
    try:
        await web.runtime.service.decide(
            review_id,
            principal,
            approve=approve,
            rationale=form.get("rationale", ""),
            now=web.clock.now(),
        )
    except ReviewItemNotFound:
        return _error(404, "No such review item.", principal=principal, csrf_token=csrf)
    except (InvalidTransition, RequestError, AccessDenied) as exc:
        status = 409 if isinstance(exc, InvalidTransition) else 403
        status = 400 if isinstance(exc, RequestError) else status
        return await _item(request, status=status, message=str(exc), signed_in=signed_in)
    except GatewayError as exc:
        logger.warning(
            "console decision failed review_id=%s error=%s", review_id, type(exc).__name__
        )
        return _error(503, "The decision could not be recorded; nothing was changed.")
    logger.info(
        "console decision review_id=%s reviewer=%s approve=%s", review_id, principal.id, approve
    )
    return _redirect(f"{_PATH}/items/{review_id}")


# -- oversight (auditor) ---------------------------------------------------------------


async def _auditor(request: Request) -> tuple[Principal, str] | Response:
    """The signed-in auditor and their CSRF token, or the response refusing the page."""
    signed_in = await _reviewer(request)
    if signed_in is None:
        return _to_login()
    principal, _, csrf = signed_in
    if AUDITOR_ROLE not in principal.roles:
        return _error(
            403, "The oversight pages need the auditor role.", principal=principal, csrf_token=csrf
        )
    return principal, csrf


async def _oversight(request: Request) -> Response:
    who = await _auditor(request)
    if isinstance(who, Response):
        return who
    principal, csrf = who
    report = await services_of(request).oversight.report()
    return _page(
        "oversight.html",
        report=report,
        # chart_svg escapes every text it writes (titles, labels, series names).
        sections=[
            (s, [Markup(chart_svg(c)) for c in s.charts])  # noqa: S704
            for s in report.sections
        ],
        principal=principal,
        csrf_token=csrf,
    )


async def _receipt(request: Request) -> Response:
    who = await _auditor(request)
    if isinstance(who, Response):
        return who
    principal, csrf = who
    request_id = request.query_params.get("request_id", "").strip()
    try:
        if not is_valid_request_id(request_id):
            raise ReceiptNotFound("not a request id")
        body = await services_of(request).oversight.receipt(request_id)
    except ReceiptNotFound:
        return _error(
            404, "No decision is logged for that request id.", principal=principal, csrf_token=csrf
        )
    response = Response(body, media_type="text/plain; charset=utf-8")
    response.headers.update(_HEADERS)
    response.headers["content-disposition"] = f'attachment; filename="{request_id}.tlog-proof"'
    return response
