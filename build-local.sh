#!/usr/bin/env bash
# Builds one connector's image for linux/amd64, tagged <registry>/<connector>:local.
# Flow and connector-kit never pull a `:local` tag, so a catalog whose
# `endpoint.connector.image` names it runs this build.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: ./build-local.sh [--dry-run] <connector> [Dockerfile]

Builds base-image/ as <registry>/base-image:local, then the connector folder
<connector> from the repository root as <registry>/<connector>:local.
  source-*       captures      (label FLOW_RUNTIME_PROTOCOL=capture)
  materialize-*  materializations (label FLOW_RUNTIME_PROTOCOL=materialize)
The Dockerfile is the one given, else <connector>/Dockerfile, else python/Dockerfile
for a Python connector (one with a pyproject.toml).

  --dry-run   print the docker commands (run from the repository root) instead of
              running them; needs no Docker engine

Environment:
  REGISTRY      image name prefix (default ghcr.io/connector-kit)
  BASE_IMAGE    build FROM this image instead of building base-image/
  PYTHON_IMAGE  the Python image base-image/ starts from, ideally pinned by digest:
                python:3.12-slim@sha256:<digest> (default: base-image/Dockerfile's)
  MODULE        the module the image runs (default: <connector> with - as _)
  USAGE_RATE    the dev.estuary.usage-rate label (default 1.0)
EOF
}

die() {
  printf 'build-local.sh: %s\n' "$*" >&2
  exit 1
}

dry_run=false
positional=()
for arg in "$@"; do
  case $arg in
    --dry-run) dry_run=true ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*)
      usage >&2
      exit 2
      ;;
    *) positional+=("$arg") ;;
  esac
done
if [[ ${#positional[@]} -lt 1 || ${#positional[@]} -gt 2 ]]; then
  usage >&2
  exit 2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
connector=${positional[0]%/}
dockerfile=${positional[1]:-}

case $connector in
  source-?*) connector_type=capture ;;
  materialize-?*) connector_type=materialize ;;
  *) die "cannot tell what '$connector' is: connector folders are named source-<name> (captures) or materialize-<name> (materializations)" ;;
esac

if [[ ! -d $root/$connector ]]; then
  known=$(cd "$root" && for dir in source-*/ materialize-*/; do [[ -d $dir ]] && printf ' %s' "${dir%/}"; done)
  die "no connector folder '$connector' in $root (connectors here:${known:- none})"
fi

# Paths are printed and used relative to the repository root, the build context.
if [[ -n $dockerfile ]]; then
  [[ -f $dockerfile ]] || die "no Dockerfile at '$dockerfile'"
  dockerfile=$(cd "$(dirname "$dockerfile")" && pwd)/$(basename "$dockerfile")
  dockerfile=${dockerfile#"$root"/}
elif [[ -f $root/$connector/Dockerfile ]]; then
  dockerfile=$connector/Dockerfile
elif [[ -f $root/$connector/pyproject.toml ]]; then
  dockerfile=python/Dockerfile
else
  die "'$connector' has neither a Dockerfile nor a pyproject.toml, so there is nothing to build it with"
fi

registry=${REGISTRY:-ghcr.io/connector-kit}
module=${MODULE:-${connector//-/_}}
usage_rate=${USAGE_RATE:-1.0}
image=$registry/$connector:local
base_image=${BASE_IMAGE:-}
build=(docker buildx build --platform linux/amd64 --load)

run() {
  if $dry_run; then
    local quoted
    quoted=$(printf '%q ' "$@")
    printf '%s\n' "${quoted% }"
  else
    printf '+ %s\n' "$*" >&2
    "$@"
  fi
}

if ! $dry_run; then
  command -v docker >/dev/null ||
    die "docker is not installed: building images needs Docker with a running engine (--dry-run shows the commands)"
  docker info >/dev/null 2>&1 ||
    die "no Docker engine answers 'docker info': start Docker, or point DOCKER_HOST at an engine (--dry-run shows the commands)"
  docker buildx version >/dev/null 2>&1 ||
    die "docker buildx is missing: install the Docker buildx plugin"
fi

cd "$root"
if [[ -z $base_image ]]; then
  base_image=$registry/base-image:local
  base_args=()
  if [[ -n ${PYTHON_IMAGE:-} ]]; then
    base_args+=(--build-arg "PYTHON_IMAGE=$PYTHON_IMAGE")
  fi
  run "${build[@]}" "${base_args[@]}" --tag "$base_image" base-image
fi
run "${build[@]}" --file "$dockerfile" \
  --build-arg "BASE_IMAGE=$base_image" \
  --build-arg "CONNECTOR_NAME=$connector" \
  --build-arg "CONNECTOR_TYPE=$connector_type" \
  --build-arg "MODULE=$module" \
  --build-arg "USAGE_RATE=$usage_rate" \
  --tag "$image" .
if ! $dry_run; then
  printf 'built %s (FLOW_RUNTIME_PROTOCOL=%s)\n' "$image" "$connector_type" >&2
fi
