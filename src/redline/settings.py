"""Settings: the one place that reads the environment and the gateway's configuration file.

``Settings.load(environ, config_path=..., ...)`` builds a frozen, validated object once at
start-up; everything else receives it (or parts of it) explicitly. The configuration file
is TOML::

    [server]
    max_body_bytes = 8388608          # 8 MiB; larger bodies get 413
    enclave_label = "U"               # default classification of every request
    screening_processes = 1           # worker processes for large requests (0: threads);
                                      # default: one per core beyond the first, 1..4

    [upstreams.local-vllm]
    base_url = "http://127.0.0.1:8000/v1"
    api_key_env = "VLLM_API_KEY"      # secrets come from the environment, never the file
    kind = "openai"                   # or "azure" (api-key header, api-version query)
    connect_timeout_s = 5
    read_timeout_s = 120

    [[routes]]
    model = "llama-70b"               # public model name clients send
    upstream = "local-vllm"
    upstream_model = "meta-llama/Llama-3.3-70B-Instruct"
    accreditation = "IL6"             # IL2 | IL4 | IL5 (default) | IL6 | TS/SCI
    sci_systems = []                  # for TS/SCI routes: accredited control systems

    [policy]
    overlay = "/etc/redline/overlay.toml"        # operator overlay (may only tighten)
    floor = "/etc/redline/floor.toml"            # default: the floor shipped with Redline;
                                                 # another floor must carry floor.toml.sig
                                                 # by a provider key shipped in the package

    [authority]                                   # the register cited authorities are checked in
    register = "/etc/redline/authorities.toml"    # signed: authorities.toml.sig beside it
    public_key = "/etc/redline/authority.pub"     # the operator key the register is signed with

    [review]                                      # held requests awaiting reviewers
    retention_s = 604800                          # keep bodies/answers after a decision
    webhook_url = "https://soc.example/redline"   # POST signed review events (optional)
    webhook_secret_env = "REDLINE_WEBHOOK_KEY"    # HMAC key, from the environment

    [observability]                               # docs/OBSERVABILITY.md
    metrics = "admin"                             # GET /metrics: "admin" (an admin-role
                                                  # key), "public" (no key) or "off" (404)
    log_format = "json"                           # or "text"

    [tls]                                         # serve HTTPS (``redline serve``)
    certfile = "/etc/redline/server.pem"          # server certificate chain (PEM)
    keyfile = "/etc/redline/server.key"           # optional when certfile holds the key
    client_ca = "/etc/redline/client-ca.pem"      # set: client certificates are REQUIRED
    crl = "/etc/redline/client-ca.crl"            # optional PEM CRL(s): revoked leaves refused

    [[tls.identities]]                            # certificate subject -> principal
    subject = "CN=alice,O=Agency,C=US"            # RFC 4514, as x509.Name.rfc4514_string()
    tenant = "intel"
    roles = ["analyst"]
    clearance = "TS"
    nationality = "USA"
    read_ins = ["SI", "TK"]
    need_to_know = []

A subject is strict RFC 4514 (no blanks after commas, most specific RDN first, as
``x509.Name.rfc4514_string()`` writes it); it is parsed and re-serialised by
``cryptography`` (so ``2.5.4.3=alice`` and ``CN=alice`` are the same name) and compared
exactly, case included. Paths are used as
written (relative ones against the working directory) and must exist at start-up. The CRL
is read once at start-up: publishing a new one takes a restart.

Environment: ``REDLINE_DATA_DIR``, ``REDLINE_HOST``, ``REDLINE_PORT``, ``REDLINE_CONFIG``,
``REDLINE_LOG_LEVEL``, ``REDLINE_REDIS_URL`` (monitor windows and halt broadcast across
replicas), ``REDLINE_DATABASE_URL`` (PostgreSQL halt state for replicas),
``REDLINE_LOG_FORMAT`` and ``REDLINE_METRICS`` (over ``[observability]``),
``REDLINE_SCREENING_PROCESSES`` (over ``[server] screening_processes``). Traces are
exported only when the standard OpenTelemetry variables ask for it: ``OTEL_TRACES_EXPORTER``
(``otlp``, ``console`` or ``none``), or an ``OTEL_EXPORTER_OTLP_ENDPOINT`` /
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (then ``otlp``); ``OTEL_SDK_DISABLED=true`` turns
them off. OTLP goes over HTTP/protobuf, the one protocol this build ships; the exporter
reads its other standard variables itself.

The built-in model ``redline-echo`` is always routed unless a route claims that name.
Unknown keys are errors: a typo must not silently change behaviour.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cryptography import x509

from redline.access import clearance_label
from redline.domain import Principal
from redline.errors import ConfigError

__all__ = [
    "ECHO_MODEL",
    "RouteConfig",
    "Settings",
    "TlsConfig",
    "UpstreamConfig",
    "default_data_dir",
    "normalize_subject",
]

ECHO_MODEL = "redline-echo"
DEFAULT_MAX_BODY = 8 * 1024 * 1024
MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class UpstreamConfig:
    """An OpenAI-compatible back end."""

    name: str
    base_url: str
    kind: Literal["openai", "azure"] = "openai"
    api_key: str | None = field(default=None, repr=False)
    api_version: str | None = None
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 120.0
    max_connections: int = 256


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteConfig:
    """Maps a public model name to an upstream and the name the upstream knows it by."""

    model: str
    upstream: str
    upstream_model: str
    accreditation: str = "IL5"
    sci_systems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsConfig:
    """HTTPS for ``redline serve``, and optionally client-certificate authentication.

    ``identities`` maps a normalised certificate subject (see :func:`normalize_subject`)
    to the principal it authenticates as (id ``cert:<subject>``).
    """

    certfile: Path
    keyfile: Path | None = None
    client_ca: Path | None = None
    crl: Path | None = None
    identities: Mapping[str, Principal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything the gateway needs to start, validated."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = DEFAULT_MAX_BODY
    enclave_label: str = "U"
    screening_processes: int = 0
    """Worker processes that parse, screen and scan large requests off the event loop
    (``service/cpu_lane.py``); 0: threads only. :meth:`load` defaults it to one per core
    beyond the first (1..4); settings built in code (tests) keep 0 unless they ask."""
    upstreams: Mapping[str, UpstreamConfig] = field(default_factory=dict)
    routes: Mapping[str, RouteConfig] = field(default_factory=dict)
    admin_key: str | None = field(default=None, repr=False)
    log_level: str = "info"
    policy_floor: Path | None = None
    policy_overlay: Path | None = None
    authority_register: Path | None = None
    authority_public_key: Path | None = None
    redis_url: str | None = field(default=None, repr=False)
    database_url: str | None = field(default=None, repr=False)
    echo_accreditation: str = "IL5"
    tls: TlsConfig | None = None
    review_retention_s: int = 7 * 24 * 3600
    review_webhook_url: str | None = None
    review_webhook_secret: bytes | None = field(default=None, repr=False)
    metrics: str = "admin"
    """Who may read ``GET /metrics``: ``admin`` (a key with the admin role), ``public`` or
    ``off``."""
    log_format: str = "json"
    traces_exporter: str | None = None
    """``otlp`` or ``console`` when traces are exported, else ``None`` (no SDK loaded)."""

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str],
        *,
        config_path: Path | None = None,
        data_dir: Path | None = None,
        host: str | None = None,
        port: int | None = None,
    ) -> Settings:
        """Build settings from the environment, an optional TOML file and CLI overrides.

        Precedence: command-line argument, then environment, then file, then default.

        Raises:
            ConfigError: the file is unreadable or invalid, or a value is out of range.
        """
        doc = _read_config(config_path) if config_path else {}
        server = _table(
            doc,
            "server",
            {"max_body_bytes", "enclave_label", "host", "port", "screening_processes"},
        )
        policy_doc = doc.get("policy")
        if isinstance(policy_doc, dict) and "provider_public_key" in policy_doc:
            raise ConfigError(
                "[policy] provider_public_key cannot be configured: a replacement floor must be "
                "signed by a provider key shipped with Redline (redline/policy/trust/)"
            )
        policy = _table(doc, "policy", {"floor", "overlay"})
        review = _table(doc, "review", {"retention_s", "webhook_url", "webhook_secret_env"})
        authority = _table(doc, "authority", {"register", "public_key"})
        observability = _table(doc, "observability", {"metrics", "log_format"})
        upstreams = _parse_upstreams(doc, environ)
        routes = _parse_routes(doc, upstreams)
        tls = _parse_tls(doc)
        env_port = environ.get("REDLINE_PORT")
        settings = cls(
            data_dir=(
                data_dir or _env_path(environ, "REDLINE_DATA_DIR") or default_data_dir(environ)
            ),
            host=host
            or environ.get("REDLINE_HOST")
            or _str(server, "host", "server")
            or "127.0.0.1",
            port=port
            or (_int_text(env_port, "REDLINE_PORT") if env_port else None)
            or _int(server, "port", "server")
            or 8080,
            max_body_bytes=_int(server, "max_body_bytes", "server") or DEFAULT_MAX_BODY,
            screening_processes=_screening_processes(environ, server),
            enclave_label=_str(server, "enclave_label", "server") or "U",
            upstreams=upstreams,
            routes=routes,
            admin_key=environ.get("REDLINE_ADMIN_KEY") or None,
            log_level=environ.get("REDLINE_LOG_LEVEL", "info").lower(),
            policy_floor=_path(policy, "floor"),
            policy_overlay=_path(policy, "overlay"),
            authority_register=_path(authority, "register", "authority"),
            authority_public_key=_path(authority, "public_key", "authority"),
            redis_url=environ.get("REDLINE_REDIS_URL") or None,
            database_url=environ.get("REDLINE_DATABASE_URL") or None,
            tls=tls,
            review_retention_s=_int(review, "retention_s", "review") or 7 * 24 * 3600,
            review_webhook_url=_str(review, "webhook_url", "review"),
            review_webhook_secret=_secret(review, "webhook_secret_env", "review", environ),
            metrics=(
                environ.get("REDLINE_METRICS")
                or _str(observability, "metrics", "observability")
                or "admin"
            ).lower(),
            log_format=(
                environ.get("REDLINE_LOG_FORMAT")
                or _str(observability, "log_format", "observability")
                or "json"
            ).lower(),
            traces_exporter=_traces_exporter(environ),
        )
        settings.validate()
        return settings

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from the environment alone (``REDLINE_CONFIG`` may name a TOML file)."""
        env = os.environ if environ is None else environ
        config = env.get("REDLINE_CONFIG")
        return cls.load(env, config_path=Path(config) if config else None)

    def validate(self) -> None:
        """Raise ConfigError for values out of range."""
        if not 0 < self.port < 65536:
            raise ConfigError(f"port must be in 1..65535, got {self.port}")
        if not 0 <= self.screening_processes <= 64:
            raise ConfigError(
                "server.screening_processes (REDLINE_SCREENING_PROCESSES) must be in 0..64, "
                f"got {self.screening_processes}"
            )
        if self.max_body_bytes < 1024:
            raise ConfigError(
                f"server.max_body_bytes must be at least 1024, got {self.max_body_bytes}"
            )
        if self.review_webhook_url and not self.review_webhook_secret:
            raise ConfigError("review.webhook_url needs review.webhook_secret_env (HMAC key)")
        if (self.authority_register is None) != (self.authority_public_key is None):
            raise ConfigError("[authority] needs both register and public_key, or neither")
        if self.review_retention_s <= 0:
            raise ConfigError("review.retention_s must be positive")
        if bool(self.database_url) != bool(self.redis_url):
            have, lack = (
                ("REDLINE_DATABASE_URL", "REDLINE_REDIS_URL")
                if self.database_url
                else ("REDLINE_REDIS_URL", "REDLINE_DATABASE_URL")
            )
            raise ConfigError(
                f"{have} is set but {lack} is not: a fleet replica needs both (PostgreSQL for "
                "keys, reviews, halts and the audit log; Redis for monitor windows and "
                "broadcasts), and an embedded gateway neither"
            )
        if self.log_level not in {"debug", "info", "warning", "error"}:
            raise ConfigError(
                f"REDLINE_LOG_LEVEL must be debug|info|warning|error, got {self.log_level!r}"
            )
        if self.metrics not in {"admin", "public", "off"}:
            raise ConfigError(
                f"observability.metrics (REDLINE_METRICS) must be admin|public|off, "
                f"got {self.metrics!r}"
            )
        if self.log_format not in {"json", "text"}:
            raise ConfigError(
                f"observability.log_format (REDLINE_LOG_FORMAT) must be json|text, "
                f"got {self.log_format!r}"
            )
        if self.traces_exporter not in {None, "otlp", "console"}:
            raise ConfigError(
                f"traces_exporter must be otlp, console or None, got {self.traces_exporter!r}"
            )


def _traces_exporter(environ: Mapping[str, str]) -> str | None:
    """The trace exporter the standard OpenTelemetry variables ask for, or None.

    Raises:
        ConfigError: an exporter or OTLP protocol this build does not ship.
    """
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    names = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if not names:
        names = "otlp" if endpoint else "none"
    chosen = [n.strip() for n in names.split(",") if n.strip() and n.strip() != "none"]
    if not chosen:
        return None
    if len(chosen) > 1 or chosen[0] not in {"otlp", "console"}:
        raise ConfigError(f"OTEL_TRACES_EXPORTER must be one of otlp, console, none; got {names!r}")
    protocol = (
        environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    if chosen[0] == "otlp" and protocol != "http/protobuf":
        raise ConfigError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL {protocol!r} is not supported: Redline exports OTLP "
            "over http/protobuf"
        )
    return chosen[0]


def _secret(
    table: Mapping[str, object], key: str, where: str, environ: Mapping[str, str]
) -> bytes | None:
    """A secret read from the environment variable the configuration names."""
    name = _str(table, key, where)
    if name is None:
        return None
    value = environ.get(name)
    if not value:
        raise ConfigError(f"{where}.{key}: the environment variable {name} is not set")
    return value.encode()


def default_data_dir(environ: Mapping[str, str]) -> Path:
    """``$XDG_DATA_HOME/redline`` or ``~/.local/share/redline``."""
    xdg = environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path(environ.get("HOME", str(Path.home()))) / ".local" / "share"
    return base / "redline"


def _env_path(environ: Mapping[str, str], name: str) -> Path | None:
    value = environ.get(name)
    return Path(value) if value else None


def _read_config(path: Path) -> dict[str, object]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: config file larger than {MAX_CONFIG_BYTES} bytes")
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    tables = {
        "server",
        "upstreams",
        "routes",
        "policy",
        "tls",
        "review",
        "observability",
        "authority",
    }
    unknown = set(doc) - tables
    if unknown:
        raise ConfigError(
            f"{path}: unknown top-level key(s): {', '.join(sorted(unknown))} "
            f"(valid tables: {', '.join(sorted(tables))})"
        )
    return doc


def _table(doc: Mapping[str, object], key: str, allowed: set[str]) -> dict[str, object]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: must be a table")
    unknown = set(value) - allowed
    if unknown:
        raise ConfigError(
            f"{key}: unknown key(s): {', '.join(sorted(unknown))} "
            f"(valid keys: {', '.join(sorted(allowed))})"
        )
    return value


def _str(table: Mapping[str, object], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}.{key}: must be a non-empty string")
    return value


def _path(table: Mapping[str, object], key: str, where: str = "policy") -> Path | None:
    value = _str(table, key, where)
    return Path(value) if value else None


def _int(table: Mapping[str, object], key: str, where: str) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}.{key}: must be an integer")
    return value


def _int_text(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise ConfigError(f"{name}: must be an integer, got {text!r}") from exc


def _float(table: Mapping[str, object], key: str, where: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where}.{key}: must be a positive number")
    return float(value)


_UPSTREAM_KEYS = {
    "base_url",
    "api_key_env",
    "kind",
    "api_version",
    "connect_timeout_s",
    "read_timeout_s",
    "max_connections",
}


def _parse_upstreams(
    doc: Mapping[str, object], environ: Mapping[str, str]
) -> dict[str, UpstreamConfig]:
    table = doc.get("upstreams", {})
    if not isinstance(table, dict):
        raise ConfigError("upstreams: must be a table of [upstreams.NAME] tables")
    result: dict[str, UpstreamConfig] = {}
    for name, raw in table.items():
        where = f"upstreams.{name}"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: must be a table")
        unknown = set(raw) - _UPSTREAM_KEYS
        if unknown:
            raise ConfigError(
                f"{where}: unknown key(s): {', '.join(sorted(unknown))} "
                f"(valid keys: {', '.join(sorted(_UPSTREAM_KEYS))})"
            )
        base_url = _str(raw, "base_url", where)
        if not base_url or not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}.base_url: must be an http(s) URL")
        kind = _str(raw, "kind", where) or "openai"
        if kind not in ("openai", "azure"):
            raise ConfigError(f"{where}.kind: must be 'openai' or 'azure', got {kind!r}")
        key_env = _str(raw, "api_key_env", where)
        if key_env and key_env not in environ:
            raise ConfigError(f"{where}.api_key_env: environment variable {key_env} is not set")
        api_version = _str(raw, "api_version", where)
        if kind == "azure" and not api_version:
            raise ConfigError(f"{where}.api_version: required for kind = 'azure'")
        result[name] = UpstreamConfig(
            name=name,
            base_url=base_url.rstrip("/"),
            kind="azure" if kind == "azure" else "openai",
            api_key=environ[key_env] if key_env else None,
            api_version=api_version,
            connect_timeout_s=_float(raw, "connect_timeout_s", where, 5.0),
            read_timeout_s=_float(raw, "read_timeout_s", where, 120.0),
            max_connections=_int(raw, "max_connections", where) or 256,
        )
    return result


def _parse_routes(
    doc: Mapping[str, object], upstreams: Mapping[str, UpstreamConfig]
) -> dict[str, RouteConfig]:
    raw_routes = doc.get("routes", [])
    if not isinstance(raw_routes, list):
        raise ConfigError("routes: must be an array of tables ([[routes]])")
    routes: dict[str, RouteConfig] = {}
    for i, raw in enumerate(raw_routes):
        where = f"routes[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: must be a table")
        valid = {"model", "upstream", "upstream_model", "accreditation", "sci_systems"}
        unknown = set(raw) - valid
        if unknown:
            raise ConfigError(
                f"{where}: unknown key(s): {', '.join(sorted(unknown))} "
                f"(valid keys: {', '.join(sorted(valid))})"
            )
        model = _str(raw, "model", where)
        upstream = _str(raw, "upstream", where)
        if not model or not upstream:
            raise ConfigError(f"{where}: 'model' and 'upstream' are required")
        if upstream not in upstreams:
            raise ConfigError(f"{where}.upstream: no upstream named {upstream!r}")
        if model in routes:
            raise ConfigError(f"{where}.model: duplicate route for {model!r}")
        systems = raw.get("sci_systems", [])
        if not isinstance(systems, list) or not all(isinstance(x, str) for x in systems):
            raise ConfigError(f"{where}.sci_systems: must be an array of strings")
        routes[model] = RouteConfig(
            model=model,
            upstream=upstream,
            upstream_model=_str(raw, "upstream_model", where) or model,
            accreditation=_str(raw, "accreditation", where) or "IL5",
            sci_systems=tuple(systems),
        )
    return routes


def normalize_subject(subject: str) -> str:
    """An RFC 4514 distinguished name in the form ``x509.Name.rfc4514_string()`` produces.

    Raises:
        ValueError: ``subject`` is not an RFC 4514 string.
    """
    return x509.Name.from_rfc4514_string(subject).rfc4514_string()


_TLS_KEYS = {"certfile", "keyfile", "client_ca", "crl", "identities"}
_IDENTITY_KEYS = {
    "subject",
    "tenant",
    "roles",
    "clearance",
    "nationality",
    "read_ins",
    "need_to_know",
}


def _parse_tls(doc: Mapping[str, object]) -> TlsConfig | None:
    if "tls" not in doc:
        return None
    table = doc["tls"]
    if not isinstance(table, dict):
        raise ConfigError("tls: must be a table")
    _reject_unknown(table, _TLS_KEYS, "tls")
    certfile = _file(table, "certfile")
    if certfile is None:
        raise ConfigError("tls.certfile: required")
    client_ca = _file(table, "client_ca")
    crl = _file(table, "crl")
    if client_ca is not None:
        _check_pem(client_ca, "tls.client_ca", x509.load_pem_x509_certificates)
    if crl is not None:
        if client_ca is None:
            raise ConfigError("tls.crl: needs tls.client_ca (a CRL checks client certificates)")
        _check_pem(crl, "tls.crl", x509.load_pem_x509_crl)
    identities = _parse_identities(table.get("identities", []))
    if identities and client_ca is None:
        raise ConfigError("tls.identities: needs tls.client_ca (no client certificates without it)")
    return TlsConfig(
        certfile=certfile,
        keyfile=_file(table, "keyfile"),
        client_ca=client_ca,
        crl=crl,
        identities=identities,
    )


def _reject_unknown(table: Mapping[str, object], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(
            "; ".join(f"{where}.{key}: unknown key" for key in unknown)
            + f" (valid keys: {', '.join(sorted(allowed))})"
        )


def _file(table: Mapping[str, object], key: str) -> Path | None:
    value = _str(table, key, "tls")
    if value is None:
        return None
    path = Path(value)
    if not path.is_file():
        raise ConfigError(f"tls.{key}: no such file: {path}")
    return path


def _check_pem(path: Path, where: str, load: Callable[[bytes], object]) -> None:
    try:
        load(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise ConfigError(f"{where}: {path} is not valid PEM: {exc}") from exc


def _parse_identities(raw_list: object) -> dict[str, Principal]:
    if not isinstance(raw_list, list):
        raise ConfigError("tls.identities: must be an array of tables ([[tls.identities]])")
    identities: dict[str, Principal] = {}
    for i, raw in enumerate(raw_list):
        where = f"tls.identities[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: must be a table")
        _reject_unknown(raw, _IDENTITY_KEYS, where)
        principal = _identity(raw, where)
        subject = principal.id.removeprefix("cert:")
        if subject in identities:
            raise ConfigError(f"{where}.subject: duplicate identity for {subject!r}")
        identities[subject] = principal
    return identities


def _identity(raw: Mapping[str, object], where: str) -> Principal:
    text = _str(raw, "subject", where)
    tenant = _str(raw, "tenant", where)
    if not text or not tenant:
        raise ConfigError(f"{where}: 'subject' and 'tenant' are required")
    try:
        subject = normalize_subject(text)
    except ValueError as exc:
        raise ConfigError(
            f"{where}.subject: not an RFC 4514 name: {text!r} (write it as "
            "x509.Name.rfc4514_string() does, e.g. 'CN=alice,O=Agency,C=US')"
        ) from exc
    if not tenant.replace("-", "").replace(".", "").isalnum():
        raise ConfigError(f"{where}.tenant: letters, digits, '-' or '.' only, got {tenant!r}")
    nationality = (_str(raw, "nationality", where) or "USA").upper()
    if len(nationality) != 3 or not nationality.isascii() or not nationality.isalpha():
        raise ConfigError(f"{where}.nationality: must be a country trigraph, got {nationality!r}")
    principal = Principal(
        id=f"cert:{subject}",
        tenant=tenant,
        roles=_strings(raw, "roles", where),
        clearance=_str(raw, "clearance", where) or "U",
        nationality=nationality,
        read_ins=_strings(raw, "read_ins", where),
        # as for API keys (store/keys.py): a principal always needs-to-know its own tenant
        need_to_know=_strings(raw, "need_to_know", where) | {tenant},
    )
    try:
        clearance_label(principal)
    except ConfigError as exc:
        raise ConfigError(f"{where}.clearance: {exc}") from exc
    return principal


def _strings(table: Mapping[str, object], key: str, where: str) -> frozenset[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
        raise ConfigError(f"{where}.{key}: must be an array of non-empty strings")
    return frozenset(value)


def _screening_processes(environ: Mapping[str, str], server: Mapping[str, object]) -> int:
    """Environment over file over the default: one per core beyond the first, 1..4."""
    text = environ.get("REDLINE_SCREENING_PROCESSES")
    if text:
        return _int_text(text, "REDLINE_SCREENING_PROCESSES")
    found = _int(server, "screening_processes", "server")
    if found is not None:
        return found
    return max(1, min(4, (os.cpu_count() or 2) - 1))
