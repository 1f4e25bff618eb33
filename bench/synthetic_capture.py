"""A fast synthetic capture connector for the pipeline bench: N customer documents, then exit.

It speaks the capture protocol directly (orjson, no framework) so the bench measures
the runtime and the materialization, not a capture framework. Config:
`{"documents": N, "per_checkpoint": 1000}`; one binding, state `{"cursor": n}` so a
restarted session continues after the last checkpoint. Documents have the shape of
`bench_capture_emit.make_documents` (9 fields, nested `address`, a `tags` array) and
are built from small pools, so building one costs little next to serializing it.
"""

from __future__ import annotations

import os
import random
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

FIRST = ["Ana", "Bjørn", "Chen", "Dana", "Émile", "Farah", "Goran", "Hana", "Ivan", "Júlia"]
LAST = ["Okafor", "Müller", "Smith", "Tanaka", "García", "Kowalski", "Nguyen", "Rossi"]
CITIES = [("Berlin", "DE"), ("Lagos", "NG"), ("Osaka", "JP"), ("Austin", "US"), ("Porto", "PT")]
TAGS = ["vip", "trial", "churn-risk", "newsletter", "b2b", "beta", "referral", "annual"]

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "_meta": {"type": "object", "properties": {"op": {"type": "string"}}},
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "email": {"type": "string"},
        "updated_at": {"type": "string", "format": "date-time"},
        "balance": {"type": "number"},
        "active": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "address": {
            "type": "object",
            "properties": {
                "street": {"type": "string"},
                "city": {"type": "string"},
                "postal_code": {"type": "string"},
                "country": {"type": "string"},
            },
        },
    },
    "required": ["id", "name", "email", "updated_at"],
}


class Documents:
    """Customer documents built from pools: cheap per document, varied enough to be real."""

    def __init__(self, seed: int = 7) -> None:
        rng = random.Random(seed)
        epoch = datetime(2024, 1, 1, tzinfo=UTC)
        self._names = [(f, la) for f in FIRST for la in LAST]
        self._times = [(epoch + timedelta(seconds=n * 37)).isoformat() for n in range(4096)]
        self._balances = [round(rng.uniform(-500.0, 25_000.0), 2) for _ in range(1024)]
        self._tags = [rng.sample(TAGS, rng.randrange(4)) for _ in range(64)]
        self._addresses = [
            {
                "street": f"{rng.randrange(1, 400)} Harbour Road",
                "city": city,
                "postal_code": f"{rng.randrange(10_000, 99_999)}",
                "country": country,
            }
            for city, country in CITIES
            for _ in range(20)
        ]

    def document(self, n: int) -> dict[str, Any]:
        first, last = self._names[n % len(self._names)]
        return {
            "_meta": {"op": "u"},
            "id": n + 1,
            "name": f"{first} {last}",
            "email": f"{first.lower()}.{last.lower()}{n}@example.com",
            "updated_at": self._times[n & 4095],
            "balance": self._balances[n & 1023],
            "active": n % 5 != 0,
            "tags": self._tags[n & 63],
            "address": self._addresses[n % len(self._addresses)],
        }


def send(out: Any, message: dict[str, Any]) -> None:
    out.write(orjson.dumps(message, option=orjson.OPT_APPEND_NEWLINE))
    out.flush()


def capture(out: Any, open_request: dict[str, Any]) -> None:
    config = open_request["capture"]["config"]
    total = int(config["documents"])
    per_checkpoint = int(config.get("per_checkpoint", 1000))
    cursor = int((open_request.get("state") or {}).get("cursor", 0))
    send(out, {"opened": {}})
    documents = Documents()
    dumps = orjson.dumps
    newline = orjson.OPT_APPEND_NEWLINE
    while cursor < total:
        end = min(cursor + per_checkpoint, total)
        lines = [
            b'{"captured":{"binding":0,"doc":' + dumps(documents.document(n)) + b"}}\n"
            for n in range(cursor, end)
        ]
        lines.append(dumps({"checkpoint": {"state": {"updated": {"cursor": end}}}}, option=newline))
        out.write(b"".join(lines))
        cursor = end
    out.flush()


def main() -> None:
    out = os.fdopen(sys.stdout.fileno(), "wb", buffering=1 << 20, closefd=False)
    for line in sys.stdin.buffer:
        request = orjson.loads(line)
        if "spec" in request:
            send(
                out,
                {
                    "spec": {
                        "protocol": 3032023,
                        "configSchema": {"type": "object"},
                        "resourceConfigSchema": {"type": "object"},
                        "documentationUrl": "https://example.com/synthetic",
                    }
                },
            )
        elif "validate" in request:
            paths = [{"resourcePath": ["customers"]} for _ in request["validate"]["bindings"]]
            send(out, {"validated": {"bindings": paths}})
        elif "apply" in request:
            send(out, {"applied": {}})
        elif "open" in request:
            capture(out, request["open"])
            return


if __name__ == "__main__":
    main()
