"""HMAC-SHA256 signatures of webhook bodies, so a receiver can tell our requests from forgeries.

The header carries `sha256=<hex>` of the exact body bytes under the subscription's secret
(the GitHub webhook convention); `verify` compares in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-Cloud-Engine-Signature"
EVENT_HEADER = "X-Cloud-Engine-Event"
DELIVERY_HEADER = "X-Cloud-Engine-Delivery"


def new_secret() -> str:
    """A fresh per-webhook secret (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str | None) -> bool:
    return signature is not None and hmac.compare_digest(sign(secret, body), signature)
