"""A materialization connector written by hand against the Flow protocol, for runtime tests.

Standard library only, so the runtime is tested against the protocol itself. It
keeps a "table" per binding in one JSON file, rows keyed by `keyPacked`, written
together with the runtime checkpoint at each StartCommit and returned in Opened:
the destination is authoritative, as materialize-duckdb is. Behaviour comes from
environment variables (set by the catalog's `endpoint.local.env`):

FAKE_RECORD   append every request line received to this file
FAKE_TABLES   the JSON file holding the rows and the checkpoint (required for Open)
FAKE_MODE     good (default) | crash_in_store | flushed_before_acknowledged |
              response_during_store | no_checkpoint | forbid_name | hang_at_flush
FAKE_CRASH_AT with crash_in_store: exit at the Store phase of this transaction (default 1)
FAKE_SER_POLICY  a JSON serPolicy to answer Validate with, for every binding
"""

import json
import os
import sys
import time

MODE = os.environ.get("FAKE_MODE", "good")


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def log(level, msg, **fields):
    sys.stderr.write(json.dumps({"level": level, "msg": msg, "fields": fields}) + "\n")
    sys.stderr.flush()


def record(line):
    path = os.environ.get("FAKE_RECORD")
    if path:
        with open(path, "a") as out:
            out.write(line if line.endswith("\n") else line + "\n")


def load_tables():
    path = os.environ["FAKE_TABLES"]
    if not os.path.exists(path):
        return {"checkpoint": None, "rows": {}}
    with open(path) as source:
        return json.load(source)


def save_tables(tables):
    path = os.environ["FAKE_TABLES"]
    with open(path + ".tmp", "w") as out:
        json.dump(tables, out)
    os.replace(path + ".tmp", path)


def spec():
    send(
        {
            "spec": {
                "protocol": 3032023,
                "configSchema": {"type": "object"},
                "resourceConfigSchema": {
                    "type": "object",
                    "properties": {"table": {"type": "string", "x-collection-name": True}},
                },
                "documentationUrl": "https://example.com/fake-materialize",
            }
        }
    )


def validate(request):
    bindings = []
    for binding in request["bindings"]:
        collection = binding["collection"]
        keys = set(collection["key"])
        constraints = {}
        for projection in collection["projections"]:
            field, ptr = projection["field"], projection.get("ptr", "")
            if ptr == "" or ptr in keys:
                kind = "FIELD_REQUIRED"
            elif MODE == "forbid_name" and field == "name":
                kind = "FIELD_FORBIDDEN"
            elif ptr.count("/") == 1:
                kind = "LOCATION_RECOMMENDED"
            else:
                kind = "FIELD_OPTIONAL"
            constraints[field] = {"type": kind, "reason": f"fake says {kind.lower()}"}
        answer = {"constraints": constraints, "resourcePath": [binding["resourceConfig"]["table"]]}
        if os.environ.get("FAKE_SER_POLICY"):
            answer["serPolicy"] = json.loads(os.environ["FAKE_SER_POLICY"])
        bindings.append(answer)
    send({"validated": {"bindings": bindings}})


def serve_transactions(open_request, lines):
    tables = load_tables()
    opened = {}
    if tables["checkpoint"] is not None and MODE != "no_checkpoint":
        opened["runtimeCheckpoint"] = tables["checkpoint"]
    send({"opened": opened})
    names = [b["resourcePath"][0] for b in open_request["materialization"]["bindings"]]
    transaction = 0
    loads = []
    staged = []
    phase = "acknowledge"
    for line in lines:
        request = json.loads(line)
        if "acknowledge" in request:
            transaction += 1
            phase = "load"
            if not (MODE == "flushed_before_acknowledged" and transaction == 1):
                send({"acknowledged": {}})
        elif "load" in request:
            loads.append(request["load"])
        elif "flush" in request:
            if MODE == "hang_at_flush":
                time.sleep(3600)
            for load in loads:
                table = tables["rows"].get(names[load.get("binding", 0)], {})
                row = table.get(load["keyPacked"])
                if row is not None:
                    send({"loaded": {"binding": load.get("binding", 0), "doc": row}})
            loads = []
            send({"flushed": {}})
            phase = "store"
        elif "store" in request:
            crash_at = int(os.environ.get("FAKE_CRASH_AT", "1"))
            if MODE == "crash_in_store" and transaction == crash_at:
                log("error", "lost the connection to the warehouse while storing", txn=transaction)
                sys.exit(3)
            if MODE == "response_during_store" and not staged:
                send({"acknowledged": {}})
            staged.append(request["store"])
        elif "startCommit" in request:
            for store in staged:
                table = tables["rows"].setdefault(names[store.get("binding", 0)], {})
                if store.get("delete"):
                    table.pop(store["keyPacked"], None)
                else:
                    table[store["keyPacked"]] = store["doc"]
            tables["checkpoint"] = request["startCommit"]["runtimeCheckpoint"]
            save_tables(tables)
            staged = []
            phase = "acknowledge"
            send({"startedCommit": {}})
        else:
            log("error", f"unexpected request in phase {phase}", request=list(request))
            sys.exit(4)


def main():
    lines = iter(sys.stdin.readline, "")
    for line in lines:
        record(line)
        request = json.loads(line)
        if "spec" in request:
            spec()
        elif "validate" in request:
            validate(request["validate"])
        elif "apply" in request:
            count = len(request["apply"]["materialization"].get("bindings", []))
            send({"applied": {"actionDescription": f"created {count} tables"}})
        elif "open" in request:

            def recorded(source):
                for item in source:
                    record(item)
                    yield item

            serve_transactions(request["open"], recorded(lines))
            return


if __name__ == "__main__":
    main()
