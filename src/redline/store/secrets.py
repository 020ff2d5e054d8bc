"""Per-deployment secrets kept in the data directory (created 0600 on first use)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from redline.audit import NoteSigner, generate_signer
from redline.errors import SignatureError, StoreError
from redline.store.sqlite import create_private_dir

__all__ = ["AUDIT_ORIGIN", "load_or_create_secret", "load_or_create_signer"]

AUDIT_ORIGIN = "redline.local/audit"
"""The checkpoint origin (and key name) of a log whose key Redline created."""


def load_or_create_signer(data_dir: Path) -> NoteSigner:
    """The checkpoint signing key ``audit.skey``, created 0600 (with ``audit.vkey``) if absent.

    Raises:
        StoreError: the key file cannot be read, created or parsed.
    """
    skey_path = data_dir / "audit.skey"
    try:
        if skey_path.exists():
            return NoteSigner.parse(skey_path.read_text().strip())
        signer = generate_signer(AUDIT_ORIGIN)
        create_private_dir(data_dir)
        skey_path.touch(mode=0o600)
        skey_path.write_text(signer.encode() + "\n")
        (data_dir / "audit.vkey").write_text(signer.verifier.encode() + "\n")
    except OSError as exc:
        raise StoreError(f"cannot read or create the audit key {skey_path}: {exc}") from exc
    except SignatureError as exc:
        raise StoreError(f"the audit key {skey_path} is not a signing key: {exc}") from exc
    return signer


def load_or_create_secret(data_dir: Path, name: str, *, nbytes: int = 32) -> bytes:
    """The secret stored in ``data_dir/name``, created with ``nbytes`` random bytes if absent.

    Raises:
        StoreError: the file cannot be read or created, or is too short.
    """
    path = data_dir / name
    try:
        create_private_dir(data_dir)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            value = path.read_bytes()
        else:
            value = secrets.token_bytes(nbytes)
            with os.fdopen(fd, "wb") as handle:
                handle.write(value)
                handle.flush()
                os.fsync(handle.fileno())
    except OSError as exc:
        raise StoreError(f"cannot read or create secret {path}: {exc.strerror}") from exc
    if len(value) < nbytes:
        raise StoreError(f"secret {path} is shorter than {nbytes} bytes")
    return value
