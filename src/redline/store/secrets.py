"""Per-deployment secrets kept in the data directory (created 0600 on first use)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from redline.errors import StoreError
from redline.store.sqlite import create_private_dir

__all__ = ["load_or_create_secret"]


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
