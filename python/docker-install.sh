#!/usr/bin/env bash
# Installs connector-kit and one connector into a new virtual environment. This is the
# one install step of a connector image (python/Dockerfile RUNs it in its build stage),
# and tests/images runs the same file to rebuild each image's environment without
# Docker, so the two cannot drift apart.
#
# usage: docker-install.sh <venv> <source-root> <connector> <module>
#   <venv>         where to create the virtual environment; it must not exist yet
#   <source-root>  the folder holding python/ (connector-kit) and <connector>/
#   <connector>    the connector folder, e.g. source-jira
#   <module>       the module the image runs with `python -m`, e.g. source_jira
#
# PYTHON (default python3) creates the environment and its pip installs into it; the
# environment itself gets no pip, because nothing installs anything at run time.
set -euo pipefail

die() {
  printf 'docker-install.sh: %s\n' "$*" >&2
  exit 1
}

[[ $# -eq 4 ]] || die "usage: docker-install.sh <venv> <source-root> <connector> <module>"
venv=$1
root=$2
connector=$3
module=$4
python=${PYTHON:-python3}

[[ $module =~ ^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$ ]] ||
  die "module '$module' is not a dotted Python module name (e.g. source_jira)"
[[ -f $root/python/pyproject.toml ]] ||
  die "connector-kit is missing: no $root/python/pyproject.toml"
[[ -f $root/$connector/pyproject.toml ]] ||
  die "'$connector' is not a Python connector: no $root/$connector/pyproject.toml"
[[ ! -e $venv ]] || die "$venv exists already; the environment is always built from scratch"

# connector-kit's `arrow` extra (pyarrow) goes in only for a connector whose own
# dependencies use Arrow: pyarrow alone is over 150 MB installed.
extras=$("$python" - "$root/$connector/pyproject.toml" <<'PY'
import re
import sys
import tomllib

with open(sys.argv[1], "rb") as pyproject:
    dependencies = tomllib.load(pyproject).get("project", {}).get("dependencies", [])
uses_arrow = False
for dependency in dependencies:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?", dependency)
    if match is None:
        continue
    name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
    extras = {extra.strip().lower() for extra in (match.group(2) or "").split(",")}
    uses_arrow = uses_arrow or name == "pyarrow" or (name == "connector-kit" and "arrow" in extras)
print("[arrow]" if uses_arrow else "")
PY
)

printf 'docker-install.sh: installing connector-kit%s and %s into %s\n' "$extras" "$connector" "$venv" >&2
"$python" -m venv --without-pip "$venv"
# One resolver run over both folders, so the connector's `connector-kit` requirement is
# satisfied by this repository's library rather than looked up in an index.
"$python" -m pip --python "$venv/bin/python" install --no-input \
  "$root/python$extras" "$root/$connector"

# An exec-form ENTRYPOINT cannot name a build argument, so every image runs the same
# `python -m connector_entrypoint`, and this file hands over to the connector's module.
site_packages=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
cat >"$site_packages/connector_entrypoint.py" <<EOF
"""The image's ENTRYPOINT module: runs \`${module}\` as \`python -m ${module}\` would."""

import runpy

runpy.run_module("${module}", run_name="__main__", alter_sys=True)
EOF
"$venv/bin/python" -m compileall -q "$site_packages/connector_entrypoint.py"

# Fail the build, not the first run, when the module is not what the folder installs.
if ! (cd / && "$venv/bin/python" - "$module") <<'PY'
import importlib.util
import sys

spec = importlib.util.find_spec(sys.argv[1])
if spec is not None and spec.submodule_search_locations is not None:
    spec = importlib.util.find_spec(sys.argv[1] + ".__main__")
sys.exit(0 if spec is not None else 1)
PY
then
  die "'$connector' installs no runnable module '$module' (a module, or a package with" \
    "__main__.py); set MODULE to the module it does install"
fi
