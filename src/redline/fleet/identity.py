"""Who belongs to the fleet: its identity (key fingerprints) and the register of replicas.

A fleet is the set of replicas sharing one database. ``redline db upgrade --data-dir DIR``
records, once, the fleet's identity from the secret files in ``DIR`` (created there if
absent): the audit log's verifier key and a fingerprint of each shared secret. The operator
mounts those files into every replica's data directory. The secrets never enter the
database (the review body key protects text the database stores).

Invariants (each a refusal to start, :class:`~redline.errors.ConfigError`, naming what
differs):

* every replica holds the fleet's audit signing key, review body key, monitor salt and
  confirmation key (fingerprints equal; a missing file is not created on a fleet);
* a starting replica's floor and effective policy digests equal those of every live
  replica (seen within :data:`LIVE_S` seconds); the check and the registration happen in
  one transaction under an advisory lock, so two replicas cannot both join with different
  policies. When no replica is live, the first to start sets the fleet's policy.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

import psycopg

from redline import __version__
from redline.errors import ConfigError, StoreError
from redline.review.crypto import load_or_create_key
from redline.store.secrets import load_or_create_secret, load_or_create_signer

__all__ = [
    "FLEET_FILES",
    "LIVE_S",
    "FleetIdentity",
    "ReplicaInfo",
    "ReplicaRegister",
    "create_fleet_files",
    "list_replicas",
    "local_fingerprints",
    "read_identity",
    "register_identity",
    "secret_mismatches",
]

FLEET_FILES: dict[str, str] = {
    "audit.skey": "audit signing key",
    "review-body.key": "review body key",
    "monitor-salt.key": "monitor salt",
    "confirmation.key": "confirmation key",
}
"""The secret files every replica of a fleet must hold, with what each is."""

LIVE_S = 10
"""A replica not seen for this long is not live (it heartbeats every :data:`BEAT_S`)."""
BEAT_S = 2.0
_FORGET_S = 24 * 3600  # rows of replicas gone this long are removed when another joins
_JOIN_LOCK = 0x7265646C696E6502

Conn = psycopg.Connection[tuple[object, ...]]


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetIdentity:
    """The fleet's record: its id (Redis names), audit verifier key, secret fingerprints."""

    fleet_id: str
    audit_vkey: str
    fingerprints: dict[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplicaInfo:
    """One row of the replica register."""

    replica_id: str
    host: str
    pid: int
    version: str
    floor_sha256: str
    policy_sha256: str
    age_s: float
    live: bool


def _fingerprint(name: str, content: bytes) -> str:
    return hashlib.sha256(
        b"redline-fleet-secret\x00" + name.encode() + b"\x00" + content
    ).hexdigest()[:32]


def create_fleet_files(data_dir: Path) -> None:
    """Create the fleet's secret files in ``data_dir`` where absent (``db upgrade``).

    Raises:
        StoreError, ConfigError: a file cannot be read or created.
    """
    load_or_create_signer(data_dir)
    load_or_create_key(data_dir / "review-body.key")
    load_or_create_secret(data_dir, "monitor-salt.key")
    load_or_create_secret(data_dir, "confirmation.key")


def local_fingerprints(data_dir: Path) -> dict[str, str | None]:
    """Fingerprint of each fleet file in ``data_dir`` (``None``: missing or unreadable)."""
    found: dict[str, str | None] = {}
    for name in FLEET_FILES:
        try:
            found[name] = _fingerprint(name, (data_dir / name).read_bytes().strip())
        except OSError:
            found[name] = None
    return found


def secret_mismatches(identity: FleetIdentity, data_dir: Path) -> list[str]:
    """What differs between the fleet's secrets and those in ``data_dir`` (empty: none)."""
    problems = []
    local = local_fingerprints(data_dir)
    for name, what in FLEET_FILES.items():
        if local[name] is None:
            problems.append(
                f"the fleet's {what} ({name}) is missing from the data directory {data_dir}: "
                "mount the fleet's key files there"
            )
        elif local[name] != identity.fingerprints.get(name):
            problems.append(
                f"this replica's {what} ({data_dir / name}) differs from the fleet's: "
                "mount the fleet's key files"
            )
    return problems


def _connect(url: str) -> Conn:
    try:
        return psycopg.connect(url, autocommit=True)
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to the fleet database: {exc}") from exc


def read_identity(url: str) -> FleetIdentity | None:
    """The fleet's identity, or ``None`` before ``redline db upgrade`` recorded it."""
    with _connect(url) as db:
        try:
            row = db.execute(
                "SELECT fleet_id, audit_vkey, fingerprints FROM redline.fleet WHERE id = 0"
            ).fetchone()
        except psycopg.Error as exc:
            raise StoreError(f"cannot read the fleet's identity: {exc}") from exc
    if row is None:
        return None
    prints = row[2] if isinstance(row[2], dict) else json.loads(str(row[2]))
    return FleetIdentity(fleet_id=str(row[0]), audit_vkey=str(row[1]), fingerprints={**prints})


def register_identity(url: str, data_dir: Path) -> tuple[FleetIdentity, bool]:
    """Record the fleet's identity from ``data_dir`` unless one exists; ``(identity, new)``.

    Raises:
        StoreError, ConfigError: the files or the database cannot be used.
    """
    create_fleet_files(data_dir)
    signer = load_or_create_signer(data_dir)
    prints = {k: v for k, v in local_fingerprints(data_dir).items() if v is not None}
    identity = FleetIdentity(
        fleet_id=secrets.token_hex(8),
        audit_vkey=signer.verifier.encode(),
        fingerprints=prints,
    )
    with _connect(url) as db:
        try:
            cursor = db.execute(
                "INSERT INTO redline.fleet (id, fleet_id, audit_vkey, fingerprints) "
                "VALUES (0, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                (identity.fleet_id, identity.audit_vkey, json.dumps(prints)),
            )
        except psycopg.Error as exc:
            raise StoreError(f"cannot record the fleet's identity: {exc}") from exc
    if cursor.rowcount == 1:
        return identity, True
    existing = read_identity(url)
    if existing is None:
        raise StoreError("the fleet's identity vanished while it was being recorded")
    return existing, False


class ReplicaRegister:
    """This replica's row in ``redline.replicas`` (blocking calls; run them in a thread)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.replica_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._conn: Conn | None = None

    def _db(self) -> Conn:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = _connect(self.url)
        return self._conn

    def join(self, *, floor_sha256: str, policy_sha256: str) -> None:
        """Register, after checking the live replicas run the same floor and policy.

        Raises:
            ConfigError: a live replica runs another floor or policy (the message says which).
            StoreError: the database failed.
        """
        db = self._db()
        try:
            with db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(%s)", (_JOIN_LOCK,))
                db.execute(
                    "DELETE FROM redline.replicas"
                    " WHERE seen_at < now() - make_interval(secs => %s)",
                    (_FORGET_S,),
                )
                rows = db.execute(
                    "SELECT replica_id, floor_sha256, policy_sha256 FROM redline.replicas "
                    "WHERE seen_at > now() - make_interval(secs => %s)",
                    (LIVE_S,),
                ).fetchall()
                for replica_id, floor, policy in rows:
                    if floor != floor_sha256:
                        raise ConfigError(
                            f"this replica's policy floor (sha256 {floor_sha256[:16]}) differs "
                            f"from the fleet's (sha256 {str(floor)[:16]}, replica {replica_id}): "
                            "start it with the fleet's floor"
                        )
                    if policy != policy_sha256:
                        raise ConfigError(
                            f"this replica's policy digest ({policy_sha256[:16]}) differs from "
                            f"the fleet's ({str(policy)[:16]}, replica {replica_id}): start it "
                            "with the fleet's policy files"
                        )
                db.execute(
                    "INSERT INTO redline.replicas (replica_id, host, pid, version, floor_sha256,"
                    " policy_sha256) VALUES (%s, %s, %s, %s, %s, %s)",
                    (
                        self.replica_id,
                        socket.gethostname(),
                        os.getpid(),
                        __version__,
                        floor_sha256,
                        policy_sha256,
                    ),
                )
        except psycopg.Error as exc:
            raise StoreError(f"cannot register this replica: {exc}") from exc

    def beat(self, *, floor_sha256: str, policy_sha256: str) -> None:
        """Say this replica is alive, with the policy it serves now (after a reload)."""
        try:
            self._db().execute(
                "UPDATE redline.replicas SET seen_at = now(), floor_sha256 = %s,"
                " policy_sha256 = %s WHERE replica_id = %s",
                (floor_sha256, policy_sha256, self.replica_id),
            )
        except psycopg.Error as exc:
            if self._conn is not None and self._conn.broken:
                self._conn = None
            raise StoreError(f"replica heartbeat failed: {exc}") from exc

    def close(self) -> None:
        """Close the connection (the row, if any, ages out)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def leave(self) -> None:
        """Remove this replica's row (clean shutdown) and close the connection."""
        try:
            self._db().execute(
                "DELETE FROM redline.replicas WHERE replica_id = %s", (self.replica_id,)
            )
        except (psycopg.Error, StoreError):
            pass  # the row ages out after LIVE_S seconds
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def list_replicas(url: str) -> list[ReplicaInfo]:
    """Every registered replica, newest first, with whether it is live."""
    with _connect(url) as db:
        try:
            rows = db.execute(
                "SELECT replica_id, host, pid, version, floor_sha256, policy_sha256,"
                " extract(epoch FROM now() - seen_at) FROM redline.replicas"
                " ORDER BY started_at DESC"
            ).fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"cannot read the replica register: {exc}") from exc
    return [
        ReplicaInfo(
            replica_id=str(r[0]),
            host=str(r[1]),
            pid=int(str(r[2])),
            version=str(r[3]),
            floor_sha256=str(r[4]),
            policy_sha256=str(r[5]),
            age_s=float(str(r[6])),
            live=float(str(r[6])) < LIVE_S,
        )
        for r in rows
    ]
