#!/usr/bin/env bash
# Build the client tools nh's app installer uses (nh runs the user's own binaries) into a cache outside the repo
# keyed by version: helm v3 from the Go module proxy, version-stamped like upstream's Makefile. kustomize is not
# built: kubectl (`build.sh kubectl`) embeds it (`kubectl kustomize DIR`), which this script checks once it is built.
# Second run: milliseconds (a stamp file). Usage: tools.sh [--force]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

HV=$NH_HELM_VERSION
HELM="$NH_TOOLS_BIN/helm"
STAMP="$NH_TOOLS_BIN/.complete"
LINK="$NH_CLUSTER_ROOT/tools-bin"      # stable path (like $NH_CLUSTER_ROOT/bin), used by the e2e test support

link() { mkdir -p "$NH_CLUSTER_ROOT" && ln -sfn "$NH_TOOLS_BIN" "$LINK"; }

# `kubectl kustomize` (kustomize v5 inside kubectl) on a tiny kustomization; once per kubectl build (stamp in $NH_BIN)
check_kustomize() {
  local k="$NH_BIN/kubectl" d out
  [ -f "$NH_BIN/.kustomize-ok" ] && return 0
  [ -x "$k" ] || { log "kubectl not built yet ($k; build.sh kubectl): skipping the 'kubectl kustomize' check"; return 0; }
  d=$(mktemp -d)
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n' > "$d/cm.yaml"
  printf 'namePrefix: nh-\nresources: [cm.yaml]\n' > "$d/kustomization.yaml"
  out=$("$k" kustomize "$d" 2>&1) || { rm -rf "$d"; die "'$k kustomize' failed: $out"; }
  rm -rf "$d"
  case "$out" in *"name: nh-c"*) ;; *) die "'$k kustomize' printed an unexpected result: $out";; esac
  touch "$NH_BIN/.kustomize-ok"
  log "kustomize: '$k kustomize' works ($("$k" version --client 2>/dev/null | grep -i kustomize || echo 'embedded'))"
}

cached() {
  [ -x "$HELM" ] && [ -f "$STAMP" ] && [ "${1:-}" != "--force" ] || return 1
  link
  check_kustomize
  log "tools cached in $NH_TOOLS_BIN (helm v$HV)"
}
cached "$@" && exit 0
# one build at a time (two e2e test processes may both find helm missing); the second then finds it built
mkdir -p "$NH_CLUSTER_CACHE/build"
exec 8> "$NH_CLUSTER_CACHE/build/helm-v$HV.lock"
flock 8
cached "$@" && exit 0

export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
command -v go >/dev/null || export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"

t0=$(date +%s)
W="$NH_CLUSTER_CACHE/build/helm-v$HV"   # empty dir: go runs outside any module
TMPBIN="$W/bin.tmp"
mkdir -p "$W" "$NH_TOOLS_BIN"
cd "$W"
rm -rf "$TMPBIN"
ticker=""
trap '[ -n "$ticker" ] && nh_kill_tree "$ticker"; rm -rf "$TMPBIN"; nh_thp_release' EXIT
nh_go_build_env   # huge pages while helm compiles, or GOGC=100 (lib.sh)

# ---- 1. the helm module: its commit (for `helm version`) and the client-go it builds with (kube-version defaults)
log "[helm 1/3] resolving helm.sh/helm/v3@v$HV"
if ! json=$(retry 4 10 go mod download -json "helm.sh/helm/v3@v$HV"); then
  printf '%s\n' "$json" | grep '"Error"' | tail -n 1 >&2
  die "go mod download helm.sh/helm/v3@v$HV failed: is v$HV served by the Go module proxy? (go list -m -versions helm.sh/helm/v3)"
fi
dir=$(printf '%s\n' "$json" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' | head -n 1)
commit=$(printf '%s\n' "$json" | sed -n 's/^\t\t"Hash": "\([0-9a-f]\{40\}\)",*$/\1/p' | head -n 1)
[ -f "$dir/go.mod" ] || die "helm v$HV module source not found after download (Dir='$dir')"
cgo=$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "$dir/go.mod")   # e.g. v0.37.0
case "$cgo" in v0.*.*) ;; *) die "cannot read the k8s.io/client-go version from $dir/go.mod (got '$cgo')";; esac
kmin=$(echo "$cgo" | cut -d. -f2)
kmaj=$(( $(echo "${cgo#v}" | cut -d. -f1) + 1 ))

# ldflags as in helm's Makefile for a tagged release build
ldf="-s -w -X helm.sh/helm/v3/internal/version.version=v$HV -X helm.sh/helm/v3/internal/version.metadata="
if [ -n "$commit" ]; then
  ldf="$ldf -X helm.sh/helm/v3/internal/version.gitCommit=$commit -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
else
  log "WARNING: the module proxy gave no commit for helm v$HV; 'helm version' will show no GitCommit"
fi
for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  grep -qs 'k8sVersionMajor' "$dir/${p#helm.sh/helm/v3/}"/*.go \
    && ldf="$ldf -X $p.k8sVersionMajor=$kmaj -X $p.k8sVersionMinor=$kmin"
done

# ---- 2. dependencies: `go install -n` loads every package (downloading modules) but compiles nothing
log "[helm 2/3] downloading the modules helm v$HV needs (client-go $cgo; ~25 s on a cold module cache)"
retry 4 10 go install -n "helm.sh/helm/v3/cmd/helm@v$HV" >/dev/null 2>"$W/download.log" \
  || { tail -n 20 "$W/download.log" >&2; die "downloading the modules of helm v$HV failed (see above)"; }

# ---- 3. compile (no network left to fail on)
log "[helm 3/3] compiling helm v$HV (cold build cache: a few minutes on 2 cores; a progress line every 60s)"
( while sleep 60; do log "  ... still compiling helm ($(( $(date +%s) - t0 ))s elapsed)"; done ) &
ticker=$!
GOBIN="$TMPBIN" go install -p 2 -trimpath -ldflags "$ldf" "helm.sh/helm/v3/cmd/helm@v$HV" \
  || die "compiling helm v$HV failed (see the output above)"
nh_kill_tree "$ticker"; ticker=""

# ---- verify the stamping before publishing the binary
v=$("$TMPBIN/helm" version --template '{{.Version}}' 2>&1 || true)
[ "$v" = "v$HV" ] || die "the built helm reports version '$v', expected v$HV (version stamping failed)"
chart=$(mktemp -d)
mkdir -p "$chart/templates"
printf 'apiVersion: v2\nname: nhcheck\nversion: 0.1.0\n' > "$chart/Chart.yaml"
printf 'kube: "{{ .Capabilities.KubeVersion.Version }}"\n' > "$chart/templates/kube.yaml"
out=$(HELM_CONFIG_HOME="$chart/.h" HELM_CACHE_HOME="$chart/.h" HELM_DATA_HOME="$chart/.h" \
      "$TMPBIN/helm" template "$chart" 2>&1 || true)
rm -rf "$chart"
case "$out" in *"kube: \"v$kmaj.$kmin.0\""*) ;; *) die "'helm template' failed or has the wrong default kube version (expected v$kmaj.$kmin.0): $out";; esac

mv -f "$TMPBIN/helm" "$HELM"
rm -f "$W/download.log"
echo "helm $("$HELM" version --short)" > "$STAMP"
link
check_kustomize
log "built helm $("$HELM" version --short) (helm template's default kube version v$kmaj.$kmin.0) into $NH_TOOLS_BIN in $(( $(date +%s) - t0 ))s"
