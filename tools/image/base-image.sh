#!/usr/bin/env bash
# `make base-image`: a Debian bookworm image with Python 3.11, built here with debootstrap from
# Debian's packages and committed with buildah, for machines that reach no image registry
# (docs/decisions.md D83). Kept in the local image store; a second run only checks it is there.
set -euo pipefail

image=${FSEFLOW_BASE_IMAGE:-localhost/fseflow-base:bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ -z "${FSEFLOW_REBUILD:-}" ] && podman image exists "$image"; then
    echo "$image: already built ($(podman image inspect --format '{{.Size}}' "$image") bytes); FSEFLOW_REBUILD=1 builds it again"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "make base-image needs root (debootstrap, buildah mount); or use a registry's base: BASE_IMAGE=..." >&2
    exit 1
fi

started=$(date +%s)
rootfs=$(mktemp -d /var/tmp/fseflow-rootfs.XXXXXX)
container=""
cleanup() {
    [ -n "$container" ] && buildah rm "$container" >/dev/null 2>&1 || true
    rm -rf "$rootfs"
}
trap cleanup EXIT

echo "debootstrap bookworm (minbase + python3, python3-venv) from $mirror..."
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
    tail -20 "$rootfs.log" "$rootfs/debootstrap/debootstrap.log" >&2 2>/dev/null; exit 1; }
rm -f "$rootfs.log"
# Nothing of the download is needed at run time.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*

container=$(buildah from scratch)
mountpoint=$(buildah mount "$container")
tar -C "$rootfs" -cf - . | tar -C "$mountpoint" -xf -
buildah umount "$container" >/dev/null
buildah config \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env LANG=C.UTF-8 \
    --cmd /bin/bash \
    --label org.opencontainers.image.description="Debian bookworm minbase with Python 3.11 (debootstrap), fseflow's offline base" \
    "$container"
buildah commit --quiet "$container" "$image" >/dev/null
echo "$image: built in $(( $(date +%s) - started )) s, $(podman image inspect --format '{{.Size}}' "$image") bytes"
