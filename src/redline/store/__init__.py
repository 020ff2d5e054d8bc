"""Persistence adapters: SQLite (embedded default) and PostgreSQL implementations."""

from __future__ import annotations

from redline.store.keys import ApiKey, IssuedKey, KeyStore, SqliteKeyStore, parse_api_key

__all__ = ["ApiKey", "IssuedKey", "KeyStore", "SqliteKeyStore", "parse_api_key"]
