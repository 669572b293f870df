#!/usr/bin/env bash
# Build kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy (one multi-call binary),
# kubectl and etcd from the Go module proxy into a cache outside the repo keyed by version ($NH_BIN).
# Second run: milliseconds (nothing to do). `build.sh --check` exits 0 when everything is built.
# `build.sh crictl` builds crictl only: the cluster does not need it to run, so the first run does not build it
# (its own copies of client-go and apimachinery cost 137 CPU-s cold); down.sh and node.sh build it on first use.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

# -dwarf=false: no debug info is compiled, since the link strips it anyway (-s -w); that is CPU a cold build saves
export GOTOOLCHAIN=local GOFLAGS="-mod=mod -gcflags=all=-dwarf=false" CGO_ENABLED=0
command -v go >/dev/null || export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"

KV=$NH_K8S_VERSION
MINOR=$(echo "$KV" | cut -d. -f2)
SV="0.${KV#*.}"                       # 1.34.4 -> 0.34.4
EV=$NH_ETCD_VERSION
BUILD="$NH_CLUSTER_CACHE/build"
K8S_BINS="kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl kube-proxy"
: "${NH_CRICTL_VERSION:=v1.34.0}"       # sigs.k8s.io/cri-tools (crictl: debugging + clean pod teardown in down.sh)
STAMP="$NH_BIN/.complete"

have_all() {
  local b
  for b in $K8S_BINS etcd; do [ -x "$NH_BIN/$b" ] || return 1; done
  [ -f "$STAMP" ]
}

# ---- crictl: plain go install (cri-tools has no replace directives). A module of its own: it requires
# k8s.io/* v0.34.0-rc.2 and newer grpc and otel than Kubernetes v1.34, so nothing of the cluster's compile is shared.
build_crictl() {
  [ -x "$NH_BIN/crictl" ] && return 0
  log "[crictl] building crictl $NH_CRICTL_VERSION once, on first use (about 1.5 min cold on 2 cores)"
  mkdir -p "$NH_BIN"
  GOBIN="$NH_BIN" retry 3 10 go install -trimpath -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$NH_CRICTL_VERSION" \
    "sigs.k8s.io/cri-tools/cmd/crictl@$NH_CRICTL_VERSION" || die "building crictl $NH_CRICTL_VERSION failed"
}

case "${1:-}" in
  --check) have_all; exit ;;
  crictl) build_crictl; exit ;;
esac
if have_all && [ "${1:-}" != "--force" ]; then
  log "binaries cached in $NH_BIN (k8s v$KV, etcd v$EV)"
  exit 0
fi

mkdir -p "$NH_BIN" "$BUILD/k8s-v$KV" "$BUILD/etcd-v$EV"
t0=$(date +%s)

# ---- Kubernetes: throw-away main module with replace directives for the staging modules. The five daemons
# are one multi-call binary (hyperkube/main.go: one link instead of five), hard-linked under each daemon's name
# so every process keeps its own /proc/PID/exe (lib.sh's pid files tell components apart by it). kubectl is
# its own binary from the same compile: it is a client started for every call, and linked with the daemons
# its start took 361 instead of 214 ms and twice the memory (every daemon package's init runs).
DAEMONS="kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy"
build_k8s() {
  local w="$BUILD/k8s-v$KV" m missing=""
  for m in $K8S_BINS; do [ -x "$NH_BIN/$m" ] || missing="$missing $m"; done
  [ -z "$missing" ] && { log "k8s binaries present"; return 0; }
  cd "$w"
  rm -f tools.go   # the main package of an older build.sh
  cp "$HERE/hyperkube/main.go" main.go
  {
    echo "module local/hyperkube"; echo; echo "go 1.24.0"; echo
    echo "require k8s.io/kubernetes v$KV"; echo; echo "replace ("
    for m in api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider \
             cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api \
             cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms \
             kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics \
             mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller; do
      printf '\tk8s.io/%s => k8s.io/%s v%s\n' "$m" "$m" "$SV"; done
    echo ")"
  } > go.mod
  # kubectl's main package, for `go mod tidy` only (a tools file never compiles)
  printf '//go:build tools\n\npackage main\n\nimport _ "k8s.io/kubernetes/cmd/kubectl"\n' > kubectl_tools.go
  log "[k8s 1/2] resolving modules for k8s.io/kubernetes v$KV (go mod tidy; downloads ~0.5 GB on a cold cache)"
  retry 4 10 go mod tidy || die "go mod tidy failed for k8s.io/kubernetes v$KV: a module may not be served by the proxy (try NH_K8S_VERSION=1.34.3)"
  local bd ldf p c
  bd=$(date -u +%Y-%m-%dT%H:%M:%SZ); ldf="-s -w"
  for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ldf="$ldf -X $p.gitVersion=v$KV -X $p.gitMajor=1 -X $p.gitMinor=$MINOR -X $p.gitTreeState=clean -X $p.buildDate=$bd"
  done
  log "[k8s 2/2] compiling hyperkube ($DAEMONS) and kubectl (cold: the longest step; a progress line every 60s)"
  ( while sleep 60; do log "  ... still compiling k8s ($(( $(date +%s) - t0 ))s elapsed)"; done ) &
  local ticker=$!
  # download retries are inside go; a compile failure is not transient
  if ! retry 2 5 go build -p 2 -trimpath -ldflags "$ldf" -o "$NH_BIN/" . k8s.io/kubernetes/cmd/kubectl; then
    kill "$ticker" 2>/dev/null || true
    die "compiling Kubernetes v$KV failed (see output above)"
  fi
  kill "$ticker" 2>/dev/null || true
  for c in $DAEMONS; do ln -f "$NH_BIN/hyperkube" "$NH_BIN/$c"; done
}

# ---- etcd: wrapper module around go.etcd.io/etcd/server/v3 (package main at module root) ----
build_etcd() {
  [ -x "$NH_BIN/etcd" ] && { log "etcd present"; return 0; }
  local w="$BUILD/etcd-v$EV"
  cd "$w"
  [ -f go.mod ] || go mod init local/nhetcdbuild >/dev/null 2>&1
  log "[etcd 1/2] resolving go.etcd.io/etcd/server/v3@v$EV"
  retry 4 10 go get "go.etcd.io/etcd/server/v3@v$EV" || die "go get go.etcd.io/etcd/server/v3@v$EV failed"
  log "[etcd 2/2] compiling etcd v$EV"
  go build -p 2 -trimpath -ldflags "-s -w" -o "$NH_BIN/etcd" go.etcd.io/etcd/server/v3 || die "compiling etcd failed"
}

# etcd is a module of its own: it requires newer grpc and otel than Kubernetes v1.34 does, so in its module it
# would change the library versions the cluster's components run with. It compiles beside Kubernetes, at a
# lower priority, on the CPU its compile leaves idle (downloads, links, its last packages).
( renice -n 10 -p "$BASHPID" >/dev/null; build_etcd ) & etcd_job=$!
failed=""
( build_k8s ) || failed="$failed kubernetes"
wait "$etcd_job" || failed="$failed etcd"
[ -z "$failed" ] || die "building$failed failed (see the output above)"

for b in $K8S_BINS; do
  if [ "$b" = kubectl ]; then v=$("$NH_BIN/$b" version --client 2>&1 || true); else v=$("$NH_BIN/$b" --version 2>&1 || true); fi
  case "$v" in *"v$KV"*) ;; *) die "$b reports '$v', expected v$KV (version stamping failed)";; esac
done
v=$("$NH_BIN/etcd" --version 2>&1 || true)
case "$v" in *"etcd Version: $EV"*) ;; *) die "etcd --version reports '$v', expected $EV";; esac
touch "$STAMP"
log "built into $NH_BIN in $(( $(date +%s) - t0 ))s: $(ls "$NH_BIN" | tr '\n' ' ')"
