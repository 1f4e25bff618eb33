"""An Airbyte source executable that replays a scripted scenario, for the shim's tests.

The scenario (a JSON file named by FAKE_SOURCE_SCENARIO) maps each command to
`{"stdout": [...], "stderr": [...], "exit": n}`; a stdout entry that is a
string is written as is (no newline added when it ends in `\\0`), anything else
as a JSON line. Every call, with the JSON files it was given, is appended to
the scenario's `calls` file.
"""

import json
import os
import sys


def main() -> None:
    with open(os.environ["FAKE_SOURCE_SCENARIO"]) as f:
        scenario = json.load(f)
    command, rest = sys.argv[1], sys.argv[2:]
    call = {"command": command}
    for flag, path in zip(rest[::2], rest[1::2], strict=True):
        with open(path) as f:
            call[flag.lstrip("-")] = json.load(f)
    with open(scenario["calls"], "a") as f:
        f.write(json.dumps(call) + "\n")
    step = scenario.get(command, {})
    for line in step.get("stdout", []):
        if isinstance(line, str):
            sys.stdout.write(line[:-1] if line.endswith("\0") else line + "\n")
        else:
            sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
    for line in step.get("stderr", []):
        sys.stderr.write(line + "\n")
    sys.exit(step.get("exit", 0))


if __name__ == "__main__":
    main()
