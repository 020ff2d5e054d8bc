"""Resolve a presented API key to a :class:`Principal`, with a short-lived cache.

The cache keeps authentication off the database for repeat callers (the hot path); entries
live ``cache_ttl_s`` seconds, which bounds how long a revoked key keeps working on a
running gateway. Unknown key ids are cached too (negative caching) so that a flood of bad
keys cannot hammer the store, and the cache is bounded in size.
"""

from __future__ import annotations

from redline.clock import Clock, SystemClock
from redline.domain import Principal
from redline.errors import AuthenticationError
from redline.service.ports import KeyStore
from redline.store.keys import ApiKey, parse_api_key, verify_secret

__all__ = ["Authenticator", "parse_api_key"]

_MAX_CACHE = 100_000


class Authenticator:
    """Bearer-key authentication against a :class:`KeyStore`."""

    def __init__(self, store: KeyStore, *, clock: Clock | None = None, cache_ttl_s: float = 2.0):
        self._store = store
        self._clock = clock or SystemClock()
        self._ttl = cache_ttl_s
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}

    async def authenticate(self, authorization: str | None) -> Principal:
        """Return the principal of a valid, unrevoked key.

        Args:
            authorization: the ``Authorization`` header value (``Bearer rl_...``).

        Raises:
            AuthenticationError: missing, malformed, unknown, wrong or revoked key.
        """
        if not authorization:
            raise AuthenticationError("missing API key: send 'Authorization: Bearer <key>'")
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise AuthenticationError("the Authorization header must be 'Bearer <key>'")
        key_id, secret = parse_api_key(presented.strip())
        key = await self._lookup(key_id)
        if key is None or not verify_secret(key, secret):
            raise AuthenticationError("invalid API key")
        if key.revoked_at is not None:
            raise AuthenticationError("API key has been revoked")
        return key.principal

    async def _lookup(self, key_id: str) -> ApiKey | None:
        now = self._clock.monotonic()
        cached = self._cache.get(key_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        key = await self._store.lookup(key_id)
        if len(self._cache) >= _MAX_CACHE:
            self._cache.clear()
        self._cache[key_id] = (now + self._ttl, key)
        return key
