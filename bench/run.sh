#!/usr/bin/env bash
# Run every bench/bench_*.py in turn with the project's virtualenv, printing each one's output.
#
#   bench/run.sh              every bench script
#   bench/run.sh capture      only scripts whose name contains "capture" (any number of words)
#
# PYTHON overrides the interpreter (default: the repository's .venv). Every script runs even
# if an earlier one fails; the exit status says whether any failed.
set -uo pipefail

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-$bench_dir/../.venv/bin/python}"
if [[ ! -x "$python" ]]; then
    echo "no Python at $python: run \`make install\` first, or set PYTHON" >&2
    exit 1
fi

failed=()
ran=0
for script in "$bench_dir"/bench_*.py; do
    [[ -e "$script" ]] || continue
    name="$(basename "$script" .py)"
    if (($# > 0)); then
        wanted=false
        for word in "$@"; do
            [[ "$name" == *"$word"* ]] && wanted=true
        done
        $wanted || continue
    fi
    echo "== $name"
    if ! "$python" "$script"; then
        failed+=("$name")
    fi
    echo
    ran=$((ran + 1))
done

if ((ran == 0)); then
    echo "no bench script matched" >&2
    exit 1
fi
if ((${#failed[@]} > 0)); then
    echo "failed: ${failed[*]}" >&2
    exit 1
fi
