"""AES-GCM payload codec: payloads carrying personal data (CV content, prompts) are encrypted
before they reach Temporal when ``PULSE_PAYLOAD_CODEC_KEY`` is set."""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"


class AESGCMCodec(PayloadCodec):
    def __init__(self, key_hex: str, key_id: str = "pulse-1") -> None:
        key = bytes.fromhex(key_hex)
        if len(key) != 32:
            raise ValueError("PULSE_PAYLOAD_CODEC_KEY must be 64 hex characters (AES-256)")
        self._aead = AESGCM(key)
        self._key_id = key_id.encode()

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [
            Payload(
                metadata={"encoding": ENCODING, "encryption-key-id": self._key_id},
                data=self._encrypt(payload.SerializeToString()),
            )
            for payload in payloads
        ]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                decoded.append(payload)
                continue
            inner = Payload()
            inner.ParseFromString(self._decrypt(payload.data))
            decoded.append(inner)
        return decoded

    def _encrypt(self, data: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, data, None)

    def _decrypt(self, data: bytes) -> bytes:
        return self._aead.decrypt(data[:12], data[12:], None)
