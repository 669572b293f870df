#!/usr/bin/env bash
# Build kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy (one multi-call binary) and
# etcd from the Go module proxy, in one compile, into a cache outside the repo keyed by version ($NH_BIN).
# Second run: milliseconds (nothing to do). `build.sh --check` exits 0 when everything is built.
# Two clients are built on first use only, since the cluster does not need them to start or run:
#   `build.sh kubectl`  kubectl, in the same module, with the same flags and version stamp, so it reuses what the
#                       cluster's compile left in the build cache (194 packages of its own: 54 CPU-s of a cold run);
#                       status.sh, node.sh, the e2e tests and the benchmarks build it when they first need it
#   `build.sh crictl`   crictl (its own copies of client-go and apimachinery cost 137 CPU-s cold); down.sh and
#                       node.sh build it before they remove pods
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

# -dwarf=false: no debug info is compiled, since the link strips it anyway (-s -w); that is CPU a cold build saves.
# Each compile runs with huge pages and the compiler's start heap, or GOGC=100 without them (lib.sh,
# nh_go_build_env; images.sh and tools.sh too).
export GOTOOLCHAIN=local GOFLAGS="-mod=mod -gcflags=all=-dwarf=false" CGO_ENABLED=0
command -v go >/dev/null || export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"

KV=$NH_K8S_VERSION
MINOR=$(echo "$KV" | cut -d. -f2)
SV="0.${KV#*.}"                       # 1.34.4 -> 0.34.4
EV=$NH_ETCD_VERSION
MODULE="$NH_CLUSTER_CACHE/build/k8s-v$KV"
DAEMONS="kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy"
: "${NH_CRICTL_VERSION:=v1.34.0}"       # sigs.k8s.io/cri-tools (crictl: debugging + clean pod teardown in down.sh)
STAMP="$NH_BIN/.complete"
t0=$(date +%s)

have_all() {
  local b
  for b in $DAEMONS etcd; do [ -x "$NH_BIN/$b" ] || return 1; done
  [ -f "$STAMP" ]
}

# ---- crictl: plain go install (cri-tools has no replace directives). A module of its own: it requires
# k8s.io/* v0.34.0-rc.2 and newer grpc and otel than Kubernetes v1.34, so nothing of the cluster's compile is shared.
build_crictl() {
  [ -x "$NH_BIN/crictl" ] && return 0
  nh_go_compiles
  log "[crictl] building crictl $NH_CRICTL_VERSION once, on first use (about 1.5 min cold on 2 cores)"
  mkdir -p "$NH_BIN"
  GOBIN="$NH_BIN" retry 3 10 go install -trimpath -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$NH_CRICTL_VERSION" \
    "sigs.k8s.io/cri-tools/cmd/crictl@$NH_CRICTL_VERSION" || die "building crictl $NH_CRICTL_VERSION failed"
}

# ---- The module everything here is compiled in: a throw-away main module in $MODULE that requires
# k8s.io/kubernetes, with replace directives for the staging modules. etcd is the version k8s.io/kubernetes itself
# requires (its go.mod: server/v3 v3.6.4), so it adds no module version to the graph and shares grpc,
# OpenTelemetry, protobuf and etcd's client with the daemons: only its own packages are compiled (a module of its
# own, at v3.6.16, compiled all of them again). kubectl is in the graph even when only the daemons are built, so
# building it later changes no module version the daemons were compiled with.
resolve_modules() {  # (in $MODULE)
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
  drop_test_helpers
}

# Two files outside *_test.go in the modules are test helpers, and the only importers of client-go's fake clientsets:
# with them, every compile builds 61 packages the cluster never runs (59 fakes, 46 CPU-s of a cold compile's 990)
# and every daemon runs the fakes' init (a scheme of every API type). The two modules are compiled from copies
# without those files: hard links of the module cache (0.3 s), named by `replace` directives. No other file differs,
# and nothing else uses the helpers (a compile that needed one would fail, not change).
TEST_HELPERS="k8s.io/kubernetes:pkg/scheduler/backend/queue/testing.go k8s.io/apiserver:pkg/admission/plugin/policy/generic/policy_test_context.go"
drop_test_helpers() {  # (in $MODULE, after tidy of the go.mod resolve_modules wrote: its modules are in the cache)
  local h m copy src
  # only directories are made writable: the files are the module cache's own inodes, and stay read-only
  [ ! -d trimmed ] || { find trimmed -type d -exec chmod u+w {} +; rm -rf trimmed; }
  mkdir trimmed
  for h in $TEST_HELPERS; do
    m=${h%%:*}; copy="trimmed/${m#k8s.io/}"
    src=$(go list -m -f '{{.Dir}}' "$m")
    [ -d "$src" ] || die "$m is not in the module cache after go mod tidy"
    cp -al "$src" "$copy"
    chmod u+w "$(dirname "$copy/${h#*:}")"; rm -f "$copy/${h#*:}"
    go mod edit -replace "$m=./$copy"
  done
}

# ---- Progress of a compile, and the time left at its pace, in the line printed every minute. `go build -n`
# lists exactly the packages the compile will build (not those in the build cache) and `go list` their files;
# both run at nice beside the compile, whose `-v` names each package as it is built. Packages are weighed by
# their source bytes (the largest, the generated OpenAPI definitions, is 3.7 MB of the cluster's 82 MB).
plan_progress() {  # WORKDIR OUTDIR PACKAGE... : writes WORKDIR/sizes, "PACKAGE BYTES" per package to build
  local w=$1 out=$2; shift 2
  nice -n 10 go build -n -p 2 -trimpath -o "$out/" "$@" 2>&1 | awk '/^# [^ ]+$/ { print $2 }' | sort -u > "$w/todo"
  nice -n 10 go list -deps -f '{{.Dir}} {{.ImportPath}}{{range .GoFiles}} {{.}}{{end}}' "$@" > "$w/list"
  awk '{ for (i = 3; i <= NF; i++) print $1 "/" $i }' "$w/list" | xargs -r -d '\n' stat -c %s > "$w/bytes"
  awk '{ for (i = 3; i <= NF; i++) print $2 }' "$w/list" | paste -d' ' - "$w/bytes" |
    awk 'NR == FNR { todo[$1] = 1; next } ($1 in todo) { b[$1] += $2 } END { for (p in b) print p, b[p] }' "$w/todo" - > "$w/sizes.tmp"
  mv "$w/sizes.tmp" "$w/sizes"
}
progress() {  # WORKDIR : "PERMILLE BUILT TOTAL" (weighed share, packages built, packages to build) once the plan is there
  [ -s "$1/sizes" ] || return 0
  awk 'NR == FNR { size[$1] = $2; total += $2; n++; next }
    ($1 in size) && !seen[$1]++ { done += size[$1]; c++ }
    END { if (total) printf "%d %d %d\n", 1000 * done / total, c, n }' "$1/sizes" "$1/built"
}
# A line every minute: the time so far, the share built, and the time left at the pace of the last 3 minutes (the
# first packages build faster per byte than the later ones: in a test compile, the pace since the start promised
# 55-60 % of the time that was left).
ticker() {  # WORKDIR
  local now line pm c n seen=() old
  while sleep 60; do
    now=$(date +%s); line="  ... still compiling ($(( now - t0 ))s elapsed)"
    read -r pm c n < <(progress "$1"; echo) || true
    if [ -n "$pm" ]; then
      line="$line: $((pm / 10)) % of the source ($c of $n packages)"
      seen+=("$now $pm"); old=${seen[$(( ${#seen[@]} > 3 ? ${#seen[@]} - 4 : 0 ))]}
      if [ "$pm" -ge 1000 ]; then line="$line, linking"
      elif [ "${old#* }" -lt "$pm" ]; then
        line="$line, about $(( ((1000 - pm) * (now - ${old% *}) / (pm - ${old#* }) + 59) / 60 )) min left at this pace"
      fi
    fi
    log "$line"
  done
}

compile() {  # WHAT DIR PACKAGE... : one `go build` into DIR, version-stamped (in $MODULE)
  local what=$1 dir=$2 bd ldf p ticker planner w; shift 2
  bd=$(date -u +%Y-%m-%dT%H:%M:%SZ); ldf="-s -w"
  for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ldf="$ldf -X $p.gitVersion=v$KV -X $p.gitMajor=1 -X $p.gitMinor=$MINOR -X $p.gitTreeState=clean -X $p.buildDate=$bd"
  done
  log "[2/2] compiling $what (a progress line every 60s)"
  w=$(mktemp -d); : > "$w/built"
  ( plan_progress "$w" "$dir" "$@" ) >/dev/null 2>&1 & planner=$!
  ticker "$w" & ticker=$!
  # download retries are inside go; a compile failure is not transient. -v's package names go to the progress
  # file only; everything else (the compiler's errors) still reaches stderr.
  local built=yes
  retry 2 5 go build -v -p 2 -trimpath -ldflags "$ldf" -o "$dir/" "$@" 2> >(tee -a "$w/built" | grep -v -E '^[^ :]+$' >&2) || built=""
  nh_kill_tree "$ticker"; nh_kill_tree "$planner"; rm -rf "$w"
  [ -n "$built" ] || die "compiling $what failed (see output above)"
}

check_version() {  # PATH : the binary reports v$KV
  local v
  case "$1" in */kubectl) v=$("$1" version --client 2>&1 || true) ;; *) v=$("$1" --version 2>&1 || true) ;; esac
  case "$v" in *"v$KV"*) ;; *) die "${1##*/} reports '$v', expected v$KV (version stamping failed)";; esac
}

# one compile in the module at a time: the cluster's and kubectl's both rewrite its go.mod (two e2e test processes
# may both find kubectl missing; the second then finds it built)
lock_module() { mkdir -p "$NH_BIN" "$MODULE"; exec 8> "$MODULE.lock"; flock 8; cd "$MODULE"; }

# kubectl is its own binary, not part of the multi-call one: it is a client started for every call, and linked
# with the daemons its start took 361 instead of 214 ms and twice the memory (every daemon package's init runs).
build_kubectl() {
  [ -x "$NH_BIN/kubectl" ] && return 0
  log "[kubectl] building kubectl v$KV once, on first use (about 40 s on 2 cores after the cluster's build; cold, minutes)"
  lock_module
  [ -x "$NH_BIN/kubectl" ] && return 0
  nh_go_compiles
  resolve_modules
  # built beside $NH_BIN and renamed into it, so a kubectl found there is always a whole one
  compile "kubectl v$KV" "$MODULE/bin" k8s.io/kubernetes/cmd/kubectl
  check_version "$MODULE/bin/kubectl"
  mv -f "$MODULE/bin/kubectl" "$NH_BIN/kubectl"
}

case "${1:-}" in
  --check) have_all; exit ;;
  crictl) build_crictl; exit ;;
  kubectl) ( build_kubectl ); exit ;;
esac
if have_all && [ "${1:-}" != "--force" ]; then
  log "binaries cached in $NH_BIN (k8s v$KV, etcd v$EV)"
  exit 0
fi

# ---- The cluster's compile: the five daemons are one multi-call binary (hyperkube/main.go: one link instead of
# five), hard-linked under each daemon's name so every process keeps its own /proc/PID/exe (lib.sh's pid files
# tell components apart by it), and etcd.
build_all() {
  local m missing=""
  for m in $DAEMONS etcd; do [ -x "$NH_BIN/$m" ] || missing="$missing $m"; done
  [ -z "$missing" ] && { log "binaries present"; return 0; }
  lock_module
  nh_go_compiles
  resolve_modules
  # etcd's main package is the module's root, go.etcd.io/etcd/server/v3, which `go build -o DIR/` names "server"
  compile "hyperkube ($DAEMONS) and etcd (cold: the longest step)" "$NH_BIN" . go.etcd.io/etcd/server/v3
  mv -f "$NH_BIN/server" "$NH_BIN/etcd"
  for m in $DAEMONS; do ln -f "$NH_BIN/hyperkube" "$NH_BIN/$m"; done
}

( build_all ) || die "building the binaries failed (see the output above)"

for b in $DAEMONS; do check_version "$NH_BIN/$b"; done
v=$("$NH_BIN/etcd" --version 2>&1 || true)
case "$v" in *"etcd Version: $EV"*) ;; *) die "etcd --version reports '$v', expected $EV";; esac
touch "$STAMP"
log "built into $NH_BIN in $(( $(date +%s) - t0 ))s: $(ls "$NH_BIN" | tr '\n' ' ')"
