"""mTLS client-certificate authentication on a real uvicorn server.

One gateway per module, configured from a TOML ``[tls]`` table and served with the same
uvicorn configuration ``redline serve`` uses (``gateway/tls.server_config``). Certificates
come from a throwaway PKI (``tests/support/pki.py``). The "bad input" outcomes:

* unknown CA, expired, not yet valid, revoked (CRL), no certificate: the TLS handshake
  fails (the server's alert names the reason); no HTTP request is served;
* trusted certificate with an unconfigured subject: 401 ``invalid_api_key``;
* certificate and API key of different tenants: 401.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

from redline.bootstrap import build_app
from redline.errors import ConfigError
from redline.gateway.tls import server_config
from redline.settings import Settings
from redline.store.keys import SqliteKeyStore
from tests.support.pki import DAY, NOW, Authority, Issued, name
from tests.support.servers import listening_socket, run_in_thread

ALICE = "CN=alice,O=Agency,C=US"


@dataclass(frozen=True, slots=True, kw_only=True)
class Env:
    url: str
    settings: Settings
    ca: Path
    certs: dict[str, Issued]
    keys: dict[str, str]


def _config(pki_dir: Path, ca: Authority, crl: Path, server: Issued) -> Path:
    path = pki_dir / "redline.toml"
    path.write_text(
        f"""
[tls]
certfile = "{server.cert}"
keyfile = "{server.key}"
client_ca = "{ca.cert_path}"
crl = "{crl}"

[[tls.identities]]
subject = "2.5.4.3=alice,O=Agency,C=US"   # CN by its OID: normalised on load
tenant = "intel"
roles = ["analyst"]
clearance = "C"
nationality = "usa"

[[tls.identities]]
subject = "CN=carol,O=Agency,C=US"
tenant = "provider"
roles = ["reviewer", "reviewer:all"]
clearance = "TS"
"""
    )
    return path


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    pki_dir = tmp_path_factory.mktemp("pki")
    ca = Authority(pki_dir, "client")
    other = Authority(pki_dir, "other")
    certs = {
        "alice": ca.issue("alice", name("alice")),
        "bob": ca.issue("bob", name("bob")),  # trusted CA, no identity
        "carol": ca.issue("carol", name("carol")),  # a reviewer
        "expired": ca.issue("expired", name("alice"), not_after=NOW - DAY),
        "future": ca.issue("future", name("alice"), not_before=NOW + DAY),
        "revoked": ca.issue("revoked", name("alice")),
        "foreign": other.issue("foreign", name("alice")),  # right subject, wrong CA
    }
    server = ca.issue("server", name("localhost"), server=True)
    crl = ca.crl([certs["revoked"].serial])
    data_dir = pki_dir / "data"
    sock = listening_socket()
    settings = Settings.load(
        {},
        config_path=_config(pki_dir, ca, crl, server),
        data_dir=data_dir,
        port=sock.getsockname()[1],
    )
    settings = replace(settings, echo_accreditation="IL6")  # up to SECRET
    store = SqliteKeyStore(data_dir / "keys.db")
    keys = {
        "intel": store.create(tenant="intel").plaintext,
        "acme": store.create(tenant="acme").plaintext,
    }
    store.close()
    with run_in_thread(server_config(build_app(settings), settings), sock):
        yield Env(
            url=f"https://127.0.0.1:{settings.port}",
            settings=settings,
            ca=ca.cert_path,
            certs=certs,
            keys=keys,
        )


def _client(env: Env, who: str | None, *, tls12: bool = False) -> httpx.Client:
    context = ssl.create_default_context(cafile=env.ca)
    if tls12:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    if who is not None:
        context.load_cert_chain(env.certs[who].cert, env.certs[who].key)
    return httpx.Client(verify=context, timeout=10)


def _chat(
    env: Env, who: str, *, key: str | None = None, label: str | None = None
) -> httpx.Response:
    headers = {"authorization": f"Bearer {env.keys[key]}"} if key else {}
    if label:
        headers["x-redline-classification"] = label
    with _client(env, who) as client:
        return client.post(
            env.url + "/v1/chat/completions",
            json={"model": "redline-echo", "messages": [{"role": "user", "content": "hello"}]},
            headers=headers,
        )


def test_valid_certificate_lists_models_and_chats(env: Env) -> None:
    with _client(env, "alice") as client:
        models = client.get(env.url + "/v1/models")
    assert models.status_code == 200, models.text
    assert "redline-echo" in {m["id"] for m in models.json()["data"]}
    chat = _chat(env, "alice")
    assert chat.status_code == 200, chat.text
    assert chat.json()["choices"][0]["message"]["content"]


def test_certificate_principal_carries_configured_clearance(env: Env) -> None:
    # alice is cleared CONFIDENTIAL by [[tls.identities]]; the route admits up to SECRET.
    assert _chat(env, "alice", label="C").status_code == 200
    denied = _chat(env, "alice", label="S")
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "redline_access_denied"
    assert denied.json()["error"]["message"] == "access denied: missing level"


def test_unknown_subject_is_401(env: Env) -> None:
    response = _chat(env, "bob")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert "subject" in response.json()["error"]["message"]


def test_unknown_subject_is_not_rescued_by_an_api_key(env: Env) -> None:
    assert _chat(env, "bob", key="intel").status_code == 401


def test_api_key_of_the_same_tenant_wins(env: Env) -> None:
    # the key's principal (clearance U) replaces the certificate's (C): "C" is now denied
    assert _chat(env, "alice", key="intel").status_code == 200
    assert _chat(env, "alice", key="intel", label="C").status_code == 403


def test_api_key_of_another_tenant_is_401(env: Env) -> None:
    response = _chat(env, "alice", key="acme")
    assert response.status_code == 401
    assert "different tenants" in response.json()["error"]["message"]


REJECTED = ["foreign", "expired", "future", "revoked", None]


@pytest.mark.parametrize("who", REJECTED)
def test_untrusted_certificates_fail_the_handshake(env: Env, who: str | None) -> None:
    # TLS 1.2: the server verifies the client certificate inside the handshake.
    with _client(env, who, tls12=True) as client, pytest.raises(httpx.ConnectError):
        client.get(env.url + "/healthz")


@pytest.mark.parametrize("who", REJECTED)
def test_untrusted_certificates_get_no_response_over_tls13(env: Env, who: str | None) -> None:
    # TLS 1.3: the client's handshake completes first; the server drops the connection
    # before reading the request, so even a valid API key gets no response.
    bearer = {"authorization": f"Bearer {env.keys['intel']}"}
    with _client(env, who) as client, pytest.raises(httpx.TransportError):
        client.get(env.url + "/v1/models", headers=bearer)


@pytest.mark.parametrize(
    ("who", "reason"),
    [
        ("foreign", "unable to get local issuer certificate"),
        ("expired", "certificate has expired"),
        ("future", "certificate is not yet valid"),
        ("revoked", "certificate revoked"),
        ("alice", None),
        ("bob", None),  # trusted: refused later, by subject (401)
    ],
)
def test_server_context_rejects_for_the_right_reason(
    env: Env, who: str, reason: str | None
) -> None:
    """The SSLContext ``redline serve`` builds, driven through an in-memory handshake."""
    config = server_config(build_app(env.settings), env.settings)
    config.load()
    assert config.ssl is not None
    client = ssl.create_default_context(cafile=env.ca)
    client.load_cert_chain(env.certs[who].cert, env.certs[who].key)
    assert _handshake(config.ssl, client) == reason


def _handshake(server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext) -> str | None:
    """Run a handshake over memory BIOs; the server's verify error, or None on success."""
    s_in, s_out, c_in, c_out = (ssl.MemoryBIO() for _ in range(4))
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname="localhost")
    done = {"client": False, "server": False}
    for _ in range(10):
        try:
            client.do_handshake()
            done["client"] = True
        except ssl.SSLWantReadError:
            pass
        s_in.write(c_out.read())
        try:
            server.do_handshake()
            done["server"] = True
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLCertVerificationError as exc:
            return str(exc.verify_message)
        c_in.write(s_out.read())
        if all(done.values()):
            return None
    raise AssertionError("handshake did not finish")


def test_revocation_is_per_certificate(env: Env) -> None:
    # the CRL is loaded and consulted, yet alice's unrevoked certificate still works
    with _client(env, "alice") as client:
        assert client.get(env.url + "/healthz").status_code == 200


# -- [tls] settings validation ------------------------------------------------------------


def _load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return Settings.load({}, config_path=path, data_dir=tmp_path / "data")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    ca = Authority(tmp_path, "t")
    server = ca.issue("server", name("localhost"), server=True)
    return {"cert": server.cert, "key": server.key, "ca": ca.cert_path, "crl": ca.crl([])}


def _tls(files: dict[str, Path], extra: str = "", identity: str = "") -> str:
    text = (
        f'[tls]\ncertfile = "{files["cert"]}"\nkeyfile = "{files["key"]}"\n'
        f'client_ca = "{files["ca"]}"\ncrl = "{files["crl"]}"\n{extra}'
    )
    if identity:
        text += f'\n[[tls.identities]]\nsubject = "{ALICE}"\ntenant = "intel"\n{identity}\n'
    return text


def test_tls_table_loads(tmp_path: Path, files: dict[str, Path]) -> None:
    settings = _load(tmp_path, _tls(files, identity='read_ins = ["SI"]\nroles = ["analyst"]'))
    assert settings.tls is not None
    assert settings.tls.client_ca == files["ca"]
    principal = settings.tls.identities[ALICE]
    assert principal.id == f"cert:{ALICE}"
    assert principal.read_ins == {"SI"}
    assert principal.need_to_know == {"intel"}
    assert _load(tmp_path, "").tls is None


@pytest.mark.parametrize(
    ("extra", "identity", "message"),
    [
        ("bogus = 1", "", "tls.bogus: unknown key"),
        ("", "colour = 'red'", "tls.identities[0].colour: unknown key"),
        ("", "clearance = 'ULTRA'", "tls.identities[0].clearance"),
        ("", "nationality = 'US'", "tls.identities[0].nationality"),
        ("", "roles = 'admin'", "tls.identities[0].roles"),
    ],
)
def test_tls_table_is_strict(
    tmp_path: Path, files: dict[str, Path], extra: str, identity: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        _load(tmp_path, _tls(files, extra, identity or "roles = []"))


def test_tls_files_must_exist_and_parse(tmp_path: Path, files: dict[str, Path]) -> None:
    files_missing = {**files, "ca": tmp_path / "nope.pem"}
    with pytest.raises(ConfigError, match=re.escape("tls.client_ca: no such file")):
        _load(tmp_path, _tls(files_missing))
    with pytest.raises(ConfigError, match=r"tls\.crl: .* is not valid PEM"):
        _load(tmp_path, _tls({**files, "crl": files["ca"]}))
    with pytest.raises(ConfigError, match=re.escape("tls.certfile: required")):
        _load(tmp_path, f'[tls]\nkeyfile = "{files["key"]}"\n')


def test_crl_and_identities_need_a_client_ca(tmp_path: Path, files: dict[str, Path]) -> None:
    base = f'[tls]\ncertfile = "{files["cert"]}"\n'
    with pytest.raises(ConfigError, match=re.escape("tls.crl: needs tls.client_ca")):
        _load(tmp_path, base + f'crl = "{files["crl"]}"\n')
    with pytest.raises(ConfigError, match=re.escape("tls.identities: needs tls.client_ca")):
        _load(tmp_path, base + '[[tls.identities]]\nsubject = "CN=x"\ntenant = "t"\n')


def test_duplicate_and_malformed_subjects(tmp_path: Path, files: dict[str, Path]) -> None:
    dup = _tls(files, identity="") + (
        '[[tls.identities]]\nsubject = "CN=alice,O=Agency,C=US"\ntenant = "a"\n'
        '[[tls.identities]]\nsubject = "2.5.4.3=alice,O=Agency,C=US"\ntenant = "b"\n'
    )
    with pytest.raises(ConfigError, match=r"tls.identities\[1\].subject: duplicate"):
        _load(tmp_path, dup)
    for subject in ("not a dn", "CN=alice, O=Agency, C=US"):
        bad = _tls(files) + f'[[tls.identities]]\nsubject = "{subject}"\ntenant = "a"\n'
        with pytest.raises(ConfigError, match=r"tls.identities\[0\].subject: not an RFC 4514"):
            _load(tmp_path, bad)


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _console_sign_in(client: httpx.Client, env: Env) -> httpx.Response:
    page = client.get(env.url + "/console/login")
    token = CSRF.search(page.text)
    assert token is not None
    return client.post(
        env.url + "/console/login", data={"api_key": "", "csrf_token": token.group(1)}
    )


def test_reviewer_signs_in_to_the_console_with_a_client_certificate(env: Env) -> None:
    with _client(env, "carol") as client:
        signed_in = _console_sign_in(client, env)
        assert signed_in.status_code == 303
        queue = client.get(env.url + "/console/")
        assert queue.status_code == 200
        assert "login" not in str(queue.url)
    with _client(env, "alice") as client:  # a known principal without the reviewer role
        assert _console_sign_in(client, env).status_code == 403
    with _client(env, "bob") as client:  # trusted CA, no identity
        assert _console_sign_in(client, env).status_code == 401
