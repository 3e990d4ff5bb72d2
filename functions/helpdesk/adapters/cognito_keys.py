"""The Cognito user pool's public signing keys (its JWKS), fetched over HTTPS and kept for an hour.

A token signed with a key we don't have yet (Cognito rotated its keys) makes us fetch again, at
most once a minute, so a stream of forged ``kid`` values can't turn into a stream of requests.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping

import urllib3

from helpdesk.auth.agent_tokens import RsaKey

KEEP_SECONDS = 3600
REFETCH_AFTER_SECONDS = 60
TIMEOUT = urllib3.Timeout(connect=2, read=3)


class CognitoKeys:
    def __init__(
        self, issuer: str, *, fetch: Callable[[str], bytes] | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._url = issuer.rstrip("/") + "/.well-known/jwks.json"
        self._fetch = fetch or self._get
        self._clock = clock
        self._keys: dict[str, RsaKey] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    @staticmethod
    def _get(url: str) -> bytes:
        # PoolManager.request works on urllib3 1.26 (the Lambda runtime's) and 2.x alike.
        pool = urllib3.PoolManager(timeout=TIMEOUT, retries=urllib3.Retry(2, backoff_factor=0.2))
        response = pool.request("GET", url)
        if response.status != 200:
            raise ConnectionError(f"the user pool's keys answered {response.status}")
        return bytes(response.data)

    def keys(self, kid: str | None = None) -> Mapping[str, RsaKey]:
        """The pool's keys by id; fetched again when stale, or when ``kid`` is new (rate-limited)."""
        with self._lock:
            now = self._clock()
            age = None if self._fetched_at is None else now - self._fetched_at
            unknown = kid is not None and kid not in self._keys
            if age is None or age > KEEP_SECONDS or (unknown and age > REFETCH_AFTER_SECONDS):
                document = json.loads(self._fetch(self._url))
                self._keys = {
                    str(jwk["kid"]): RsaKey.from_jwk(jwk)
                    for jwk in document.get("keys", [])
                    if jwk.get("kty") == "RSA" and jwk.get("kid")
                }
                self._fetched_at = now
            return dict(self._keys)
