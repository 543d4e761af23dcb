#!/usr/bin/env bash
# Builds the pinned Kubernetes tools from the Go module proxy into a cache outside the clone, so
# that repeated runs on one machine reuse them (a cold kube-apiserver build takes many minutes):
#
#   tools/k8s/build.sh              build whatever is missing (a second run does nothing)
#   tools/k8s/build.sh kustomize    build only the tools named (kustomize kubeconform etcd
#                                   kube-apiserver)
#   tools/k8s/build.sh --bin-dir    print the folder holding the binaries, build nothing
#   tools/k8s/build.sh --tidy       refresh the wrapper modules' go.sum after a pin changed
#
# The cache is ${FSEFLOW_K8S_TOOLS:-${FSEFLOW_CACHE:-$HOME/.cache/fseflow}/k8s-tools}: its
# gomod/ and gocache/ hold the Go module and build caches, and <set>/bin the binaries of one
# set of pins (<set> names the Kubernetes release and a hash of the pins, so two clones with
# different pins do not overwrite each other's tools). Sizes and times: deploy/k8s/README.md.
#
# promtool is no longer built (decisions.md D62: a cold build did not finish in 5 minutes on the
# shared machine). versions.env still names PROMETHEUS_VERSION because its text is part of the
# pins' hash: removing the line would move every tool to a new folder and rebuild them (~25 min).
# Drop it with the next pin change.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
all_tools=(kustomize kubeconform etcd kube-apiserver)

command -v go >/dev/null || { echo "build.sh: go is not installed (Go >= 1.26 is needed)" >&2; exit 1; }

cache=${FSEFLOW_K8S_TOOLS:-${FSEFLOW_CACHE:-$HOME/.cache/fseflow}/k8s-tools}
kubernetes_version=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2}' "$here/kube-apiserver/go.mod")
pins=$(cd "$here" && cat versions.env etcd/go.mod etcd/go.sum kube-apiserver/go.mod kube-apiserver/go.sum 2>/dev/null; go env GOVERSION)
set_id="kubernetes-${kubernetes_version}-$(sha256sum <<<"$pins" | cut -c1-12)"
bin="$cache/$set_id/bin"

export GOMODCACHE="$cache/gomod" GOCACHE="$cache/gocache"
# The machine's own Go, never a downloaded toolchain; static binaries; at most two threads
# (the machine has two cores shared with test suites).
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
export GOMAXPROCS=${GOMAXPROCS:-2}
build_flags=(-trimpath -p "$GOMAXPROCS")

case "${1:-}" in
--bin-dir)
    echo "$bin"
    exit 0
    ;;
--tidy)
    for wrapper in etcd kube-apiserver; do
        (cd "$here/$wrapper" && go mod tidy)
    done
    exit 0
    ;;
-*)
    echo "build.sh: unknown option $1 (see the comment at the top of $0)" >&2
    exit 2
    ;;
esac

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=("${all_tools[@]}")
for tool in "${wanted[@]}"; do
    [[ " ${all_tools[*]} " == *" $tool "* ]] || {
        echo "build.sh: unknown tool '$tool' (one of: ${all_tools[*]})" >&2
        exit 2
    }
done

mkdir -p "$bin"
# One builder at a time per cache: a second CI run waits for the first, then finds the tools.
exec 9>"$cache/.lock"
flock 9

build() {
    local tool=$1 out="$bin/.$1.partial"
    case "$tool" in
    kustomize)
        GOBIN="$bin/.gobin" go install "${build_flags[@]}" -ldflags="-s -w" \
            "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
        mv "$bin/.gobin/kustomize" "$out"
        ;;
    kubeconform)
        GOBIN="$bin/.gobin" go install "${build_flags[@]}" -ldflags="-s -w" \
            "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
        mv "$bin/.gobin/kubeconform" "$out"
        ;;
    etcd)
        (cd "$here/etcd" && go build "${build_flags[@]}" -ldflags="-s -w" -o "$out" go.etcd.io/etcd/server/v3)
        ;;
    kube-apiserver)
        local minor=${kubernetes_version#v1.}
        minor=${minor%%.*}
        local version_flags=""
        for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
            version_flags+=" -X $pkg.gitVersion=$kubernetes_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
        done
        (cd "$here/kube-apiserver" && go build "${build_flags[@]}" -ldflags="-s -w$version_flags" \
            -o "$out" k8s.io/kubernetes/cmd/kube-apiserver)
        ;;
    esac
    mv "$out" "$bin/$tool"
}

built=0
for tool in "${wanted[@]}"; do
    if [ -x "$bin/$tool" ]; then
        continue
    fi
    echo "k8s-tools: building $tool into $bin ..."
    started=$(date +%s)
    if ! build "$tool"; then
        echo "k8s-tools: building $tool FAILED after $(($(date +%s) - started))s" >&2
        exit 1
    fi
    seconds=$(($(date +%s) - started))
    size=$(du -m "$bin/$tool" | cut -f1)
    echo "k8s-tools: built $tool in ${seconds}s (${size} MB)"
    echo "$(date -u +%FT%TZ) $tool ${seconds}s ${size}MB" >>"$cache/$set_id/build-times.log"
    built=$((built + 1))
done
rm -rf "$bin/.gobin"

if [ "$built" -gt 0 ]; then
    echo "k8s-tools: cache $(du -sh "$cache" | cut -f1) in $cache (module cache $(du -sh "$GOMODCACHE" | cut -f1), build cache $(du -sh "$GOCACHE" | cut -f1))"
else
    echo "k8s-tools: ${wanted[*]} already built in $bin"
fi
