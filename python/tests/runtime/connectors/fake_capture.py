"""A capture connector written by hand against the Flow protocol, for runtime tests.

It speaks JSON lines on stdin/stdout with nothing but the standard library, so
the runtime is tested against the protocol itself, not against our own framework.
Behaviour comes from environment variables (set by the catalog's `endpoint.local.env`):

FAKE_RECORD   append every request line received to this file
FAKE_MODE     good (default) | garbage | partial | eof_in_checkpoint | bad_binding |
              schema_violation | checkpoint_without_state | hang_open | hang_probe | crash |
              extra_response
FAKE_TXNS     transactions to emit before exiting (default 2)
FAKE_DOCS     documents per transaction (default 2)
FAKE_ACKS     "1": ask for explicit acknowledgements and wait for each one
FAKE_MERGE    "0": checkpoints replace the whole state (mergePatch false)
FAKE_LINGER   "1": after the last transaction keep running until stdin closes
FAKE_SCRIPT   a JSON file of transactions (arrays of documents) to emit for binding 0
              instead of generated users, resuming after the last one in the state
FAKE_LOG_CONFIG "1": log the endpoint config (secrets included) when asked for the spec
"""

import json
import os
import sys
import time

MODE = os.environ.get("FAKE_MODE", "good")


def send(message):
    # Compact, as connectors usually write (and as the runtime's fast path expects).
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def log(level, msg, **fields):
    sys.stderr.write(json.dumps({"level": level, "msg": msg, "fields": fields}) + "\n")
    sys.stderr.flush()


def record(line):
    path = os.environ.get("FAKE_RECORD")
    if path:
        with open(path, "a") as out:
            out.write(line if line.endswith("\n") else line + "\n")


def read_request():
    line = sys.stdin.readline()
    if not line:
        return None
    record(line)
    return json.loads(line)


USERS_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "_meta": {"type": "object", "properties": {"uuid": {"type": "string"}}},
    },
    "required": ["id"],
}


def spec(config):
    if os.environ.get("FAKE_LOG_CONFIG") == "1":
        log("info", f"connecting with {json.dumps(config)}", config=config)
    schema = {"type": "object", "properties": {"host": {"type": "string"}}}
    if config:
        schema["examples"] = [config]
    send(
        {
            "spec": {
                "protocol": 3032023,
                "configSchema": schema,
                "resourceConfigSchema": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}},
                },
                "documentationUrl": "https://example.com/fake-capture",
                "resourcePathPointers": ["/name"],
            }
        }
    )


def discover():
    send(
        {
            "discovered": {
                "bindings": [
                    {
                        "recommendedName": "users",
                        "resourceConfig": {"name": "users"},
                        "documentSchema": USERS_SCHEMA,
                        "key": ["/id"],
                    },
                    {
                        "recommendedName": "orders",
                        "resourceConfig": {"name": "orders", "interval": "PT5M"},
                        "documentSchema": {"type": "object", "x-infer-schema": True},
                        "key": ["/order_id", "/line"],
                        "disable": True,
                    },
                ]
            }
        }
    )


def validate(request):
    paths = [{"resourcePath": [b["resourceConfig"]["name"]]} for b in request["bindings"]]
    send({"validated": {"bindings": paths}})


def capture(open_request):
    bindings = open_request["capture"]["bindings"]
    state = open_request.get("state") or {}
    acks = os.environ.get("FAKE_ACKS") == "1"
    merge = os.environ.get("FAKE_MERGE") != "0"
    txns = int(os.environ.get("FAKE_TXNS", "2"))
    per_txn = int(os.environ.get("FAKE_DOCS", "2"))
    if MODE == "hang_open":
        time.sleep(3600)
    send({"opened": {"explicitAcknowledgements": True} if acks else {}})

    key = bindings[0]["stateKey"]
    if os.environ.get("FAKE_SCRIPT"):
        run_script(key, state, acks=acks)
        return
    cursor = state.get("bindingStateV1", {}).get(key, {}).get("cursor", 0)
    for txn in range(txns):
        for _ in range(per_txn):
            cursor += 1
            send({"captured": {"binding": 0, "doc": {"id": cursor, "name": f"user-{cursor}"}}})
        updated = {"bindingStateV1": {key: {"cursor": cursor}}}
        if not merge:
            updated["txn"] = txn
        send({"checkpoint": {"state": {"updated": updated, "mergePatch": merge}}})
        if acks:
            ack = read_request()
            if not ack or ack.get("acknowledge", {}).get("checkpoints") != 1:
                log("error", "expected an acknowledgement", got=ack)
                sys.exit(3)
        if txn == 0:
            misbehave(cursor)
    if os.environ.get("FAKE_LINGER") == "1":
        while read_request() is not None:
            pass


def run_script(key, state, *, acks):
    with open(os.environ["FAKE_SCRIPT"]) as source:
        transactions = json.load(source)
    done = state.get("bindingStateV1", {}).get(key, {}).get("done", 0)
    for number in range(done, len(transactions)):
        for doc in transactions[number]:
            send({"captured": {"binding": 0, "doc": doc}})
        updated = {"bindingStateV1": {key: {"done": number + 1}}}
        send({"checkpoint": {"state": {"updated": updated, "mergePatch": True}}})
        if acks and read_request() is None:
            return


def misbehave(cursor):
    """After one good transaction, break the protocol the way FAKE_MODE says."""
    uncommitted = {"captured": {"binding": 0, "doc": {"id": cursor + 100, "name": "uncommitted"}}}
    if MODE == "garbage":
        send(uncommitted)
        sys.stdout.write("this is not json at all\n")
        sys.stdout.flush()
        time.sleep(5)
    elif MODE == "partial":
        send(uncommitted)
        sys.stdout.write('{"captured":{"binding":0,"doc":{"id":')
        sys.stdout.flush()
        sys.exit(0)
    elif MODE == "eof_in_checkpoint":
        send(uncommitted)
        sys.exit(0)
    elif MODE == "bad_binding":
        send({"captured": {"binding": 7, "doc": {"id": 1}}})
        time.sleep(5)
    elif MODE == "schema_violation":
        send({"captured": {"binding": 0, "doc": {"id": "not-a-number", "secret": "s3cr3t"}}})
        time.sleep(5)
    elif MODE == "checkpoint_without_state":
        send(uncommitted)
        send({"checkpoint": {}})
        time.sleep(5)
    elif MODE == "crash":
        send(uncommitted)
        log("info", "reading page 2")
        log("error", "cannot reach the source: connection refused", attempt=3)
        sys.exit(2)


def main():
    while True:
        request = read_request()
        if request is None:
            return
        if "spec" in request:
            if MODE == "hang_probe":
                time.sleep(3600)
            spec(request["spec"].get("config"))
        elif "discover" in request:
            discover()
        elif "validate" in request:
            validate(request["validate"])
        elif "apply" in request:
            count = len(request["apply"]["capture"].get("bindings", []))
            send({"applied": {"actionDescription": f"applied {count} bindings"}})
            if MODE == "extra_response":
                send({"applied": {}})
        elif "open" in request:
            capture(request["open"])
            return


if __name__ == "__main__":
    main()
