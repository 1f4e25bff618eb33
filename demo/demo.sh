#!/usr/bin/env bash
# `make demo`: an emulated source API → its capture → `connector-kit run` → materialize-duckdb,
# then a query of the result. Everything runs locally; nothing leaves the machine.
#
#   DEMO_SOURCE=jira  (default) the Jira emulator and source-jira, catalog demo/demo.flow.yaml
#   DEMO_SOURCE=notes the example Notes API and source_notes, catalog demo/notes.flow.yaml
#   DEMO_ISSUES=200   how many issues (or notes) the emulated source holds
#
# The run ends by itself once the capture has been idle for a few seconds (--timeout).
# Outputs stay in demo/out/ (demo.duckdb and the run's state directory) for a closer look.
set -euo pipefail

demo_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$demo_dir")
out_dir="$demo_dir/out"
source_kind=${DEMO_SOURCE:-jira}
size=${DEMO_ISSUES:-200}
server_pid=""

cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT INT TERM

free_port() {
    python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for_port() {  # host port pid
    for _ in $(seq 1 100); do
        if python -c 'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1)' "$1" "$2" 2>/dev/null; then
            return 0
        fi
        kill -0 "$3" 2>/dev/null || { echo "the emulated source exited early:" >&2; cat "$out_dir/source.log" >&2; return 1; }
        sleep 0.1
    done
    echo "the emulated source did not start listening on $1:$2" >&2
    return 1
}

rm -rf "$out_dir"
mkdir -p "$out_dir"
port=$(free_port)

case "$source_kind" in
    jira)
        catalog="$demo_dir/demo.flow.yaml"
        python -m jira_emulator --port "$port" --issues "$size" --seed 1 >"$out_dir/source.log" 2>&1 &
        server_pid=$!
        wait_for_port 127.0.0.1 "$port" "$server_pid"
        token=$(sed -n 's/^  api token: *//p' "$out_dir/source.log")
        email=$(sed -n 's/^  email: *//p' "$out_dir/source.log")
        cat >"$out_dir/source.config.yaml" <<EOF
site: http://127.0.0.1:$port
credentials:
  auth_type: api_token
  email: $email
  api_token: $token
start_date: "2000-01-01T00:00:00Z"
EOF
        ;;
    notes)
        catalog="$demo_dir/notes.flow.yaml"
        PYTHONPATH="$repo_dir/python/examples" \
            python -m notes_api --port "$port" --notes "$size" >"$out_dir/source.log" 2>&1 &
        server_pid=$!
        wait_for_port 127.0.0.1 "$port" "$server_pid"
        cat >"$out_dir/source.config.yaml" <<EOF
base_url: http://127.0.0.1:$port
api_token: notes-demo-token
EOF
        ;;
    *)
        echo "DEMO_SOURCE must be jira or notes, not $source_kind" >&2
        exit 2
        ;;
esac

echo "== $source_kind emulator on 127.0.0.1:$port; running $(basename "$catalog")" >&2
connector-kit run \
    --source "$catalog" \
    --state-dir "$out_dir/state" \
    --timeout 5s \
    --progress-interval 2s

echo "== query of $out_dir/demo.duckdb" >&2
python "$demo_dir/query.py" "$out_dir/demo.duckdb"
