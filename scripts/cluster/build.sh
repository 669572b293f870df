#!/usr/bin/env bash
# Build kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy (one multi-call binary),
# kubectl and etcd from the Go module proxy, in one compile, into a cache outside the repo keyed by version ($NH_BIN).
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

mkdir -p "$NH_BIN" "$BUILD/k8s-v$KV"
t0=$(date +%s)

# ---- One compile: a throw-away main module that requires k8s.io/kubernetes, with replace directives for the
# staging modules. The five daemons are one multi-call binary (hyperkube/main.go: one link instead of five),
# hard-linked under each daemon's name so every process keeps its own /proc/PID/exe (lib.sh's pid files tell
# components apart by it). kubectl is its own binary from the same compile: it is a client started for every
# call, and linked with the daemons its start took 361 instead of 214 ms and twice the memory (every daemon
# package's init runs). etcd is the version k8s.io/kubernetes itself requires (its go.mod: server/v3 v3.6.4),
# so it adds no module version to the graph and shares grpc, OpenTelemetry, protobuf and etcd's client with the
# daemons: only its own packages are compiled (a module of its own, at v3.6.16, compiled all of them again).
DAEMONS="kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy"
build_all() {
  local w="$BUILD/k8s-v$KV" m missing=""
  for m in $K8S_BINS etcd; do [ -x "$NH_BIN/$m" ] || missing="$missing $m"; done
  [ -z "$missing" ] && { log "binaries present"; return 0; }
  cd "$w"
  rm -f kubectl_tools.go   # the tools file of an older build.sh
  cp "$HERE/hyperkube/main.go" main.go
  {
    echo "module local/hyperkube"; echo; echo "go 1.24.0"; echo
    echo "require ("; printf '\tk8s.io/kubernetes v%s\n\tgo.etcd.io/etcd/server/v3 v%s\n' "$KV" "$EV"; echo ")"
    echo; echo "replace ("
    for m in api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider \
             cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api \
             cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms \
             kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics \
             mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller; do
      printf '\tk8s.io/%s => k8s.io/%s v%s\n' "$m" "$m" "$SV"; done
    echo ")"
  } > go.mod
  # the other two main packages, for `go mod tidy` only (a tools file never compiles)
  printf '//go:build tools\n\npackage main\n\nimport (\n\t_ "go.etcd.io/etcd/server/v3"\n\t_ "k8s.io/kubernetes/cmd/kubectl"\n)\n' > tools.go
  # While tidy downloads (network-bound: 61 s and 20 CPU-s cold), the standard library compiles into the build
  # cache with the same flags, at a lower priority than tidy, outside this module (tidy rewrites go.mod). It is
  # stopped when tidy ends; the compile below finds what it finished (cold: 233 of its 234 std packages).
  ( cd / && exec nice -n 10 go build -p 2 -trimpath std ) >/dev/null 2>&1 & local std_job=$!
  log "[1/2] resolving modules for k8s.io/kubernetes v$KV and etcd v$EV (go mod tidy; downloads ~0.5 GB on a cold cache)"
  if ! retry 4 10 go mod tidy; then
    nh_kill_tree "$std_job"
    die "go mod tidy failed for k8s.io/kubernetes v$KV: a module may not be served by the proxy (try NH_K8S_VERSION=1.34.3)"
  fi
  nh_kill_tree "$std_job"; wait "$std_job" 2>/dev/null || true
  local bd ldf p c
  bd=$(date -u +%Y-%m-%dT%H:%M:%SZ); ldf="-s -w"
  for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ldf="$ldf -X $p.gitVersion=v$KV -X $p.gitMajor=1 -X $p.gitMinor=$MINOR -X $p.gitTreeState=clean -X $p.buildDate=$bd"
  done
  log "[2/2] compiling hyperkube ($DAEMONS), kubectl and etcd (cold: the longest step; a progress line every 60s)"
  ( while sleep 60; do log "  ... still compiling ($(( $(date +%s) - t0 ))s elapsed)"; done ) &
  local ticker=$!
  # download retries are inside go; a compile failure is not transient. etcd's main package is the module's
  # root, go.etcd.io/etcd/server/v3, which `go build -o DIR/` names "server".
  if ! retry 2 5 go build -p 2 -trimpath -ldflags "$ldf" -o "$NH_BIN/" . k8s.io/kubernetes/cmd/kubectl go.etcd.io/etcd/server/v3; then
    kill "$ticker" 2>/dev/null || true
    die "compiling Kubernetes v$KV and etcd v$EV failed (see output above)"
  fi
  kill "$ticker" 2>/dev/null || true
  mv -f "$NH_BIN/server" "$NH_BIN/etcd"
  for c in $DAEMONS; do ln -f "$NH_BIN/hyperkube" "$NH_BIN/$c"; done
}

( build_all ) || die "building the binaries failed (see the output above)"

for b in $K8S_BINS; do
  if [ "$b" = kubectl ]; then v=$("$NH_BIN/$b" version --client 2>&1 || true); else v=$("$NH_BIN/$b" --version 2>&1 || true); fi
  case "$v" in *"v$KV"*) ;; *) die "$b reports '$v', expected v$KV (version stamping failed)";; esac
done
v=$("$NH_BIN/etcd" --version 2>&1 || true)
case "$v" in *"etcd Version: $EV"*) ;; *) die "etcd --version reports '$v', expected $EV";; esac
touch "$STAMP"
log "built into $NH_BIN in $(( $(date +%s) - t0 ))s: $(ls "$NH_BIN" | tr '\n' ' ')"
