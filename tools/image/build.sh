#!/usr/bin/env bash
# `make image`: the fseflow image from deploy/image/Containerfile with buildah (docs/decisions.md D83).
# BASE_IMAGE chooses the base (default: the public python:3.11-slim-bookworm; `make base-image`
# builds localhost/fseflow-base:bookworm for machines with no registry). The host's CA store is
# mounted read-only at /host-ca so that PyPI downloads go through a TLS-inspecting proxy too.
set -euo pipefail
cd "$(dirname "$0")/../.."

image=${IMAGE:-localhost/fseflow:dev}
base=${BASE_IMAGE:-docker.io/library/python:3.11-slim-bookworm}
ca_store=${HOST_CA_STORE:-/etc/ssl/certs}
version=$(git describe --always --dirty 2>/dev/null || echo dev)

# A machine that reaches no registry gets the debootstrap base instead of failing, and is told so.
if ! podman image exists "$base" && ! podman pull --quiet "$base" >/dev/null 2>&1; then
    local_base=${FSEFLOW_BASE_IMAGE:-localhost/fseflow-base:bookworm}
    echo "base image $base cannot be pulled (no registry reachable?): using $local_base (make base-image)" >&2
    tools/image/base-image.sh
    base=$local_base
fi

mounts=()
[ -f "$ca_store/ca-certificates.crt" ] && mounts=(--volume "$ca_store:/host-ca:ro")

started=$(date +%s)
# --layers: the dependency layer is reused while uv.lock and the pyproject files are unchanged.
buildah bud --quiet --layers --isolation chroot --network host \
    "${mounts[@]}" \
    --build-arg "BASE_IMAGE=$base" --build-arg "VERSION=$version" \
    --file deploy/image/Containerfile --tag "$image" . >/dev/null
seconds=$(( $(date +%s) - started ))
size=$(podman image inspect --format '{{.Size}}' "$image")
echo "$image ($version, base $base): built in $seconds s, $(( size / 1000000 )) MB"
