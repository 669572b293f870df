# shellcheck shell=bash
# Shared settings for the nh local cluster scripts. Sourced, not executed.
# Everything can be overridden from the environment.
NH_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

: "${NH_K8S_VERSION:=1.34.4}"          # k8s.io/kubernetes version (staging modules use 0.<minor>.<patch>)
: "${NH_ETCD_VERSION:=3.6.4}"          # go.etcd.io/etcd/server/v3: the version k8s.io/kubernetes v1.34.4 requires.
                                       # build.sh compiles it in the Kubernetes module; a newer one (3.6.16 needs
                                       # grpc 1.83, otel 1.45) would raise those libraries for every component
: "${NH_HELM_VERSION:=3.22.0}"         # helm.sh/helm/v3 version (tools.sh; for nh's app installer: helm charts)
: "${NH_CLUSTER_CACHE:=/opt/nh-cluster}"             # built binaries + build workspaces (outside the repo)
: "${NH_CLUSTER_ROOT:=/var/lib/nh-cluster}"          # state, pki, pid files, logs, kubeconfig
: "${NH_CLUSTER_RUN:=/run/nh-cluster}"               # sockets, containerd state, runc root
: "${NH_VAR_CACHE:=/var/cache/nh-cluster}"            # debootstrap rootfs, dlv, image layers/archives
: "${NH_IMAGE_CACHE:=$NH_VAR_CACHE/images}"           # image layers + archives, keyed by input hashes

# The measured cost of a cold first run on a quiet 2-core machine, for prepare.sh's estimate (seconds;
# scripts/cluster/README.md, "First run (cold)"), and how the wall time grew with the load average per core.
# A cold prepare.sh (the binaries, with the packages and the images beside them) as "fastest slowest" measured:
NH_COLD_PREPARE_S="369 429"          # with huge pages for the compile (nh_go_build_env), 2026-12-04
NH_COLD_PREPARE_NO_THP_S="501 676"   # without: a VM with cheaper fresh memory (2026-12-02), this one (2026-12-04)
NH_COLD_APT_S=25
NH_COLD_IMAGES_S=89
NH_COLD_LOAD_FACTOR=0.4
NH_COLD_MEASURED="prepare.sh 369-429 s with huge pages for the compile, 664-676 s without on the same 2-core VM (2026-12-04), 501 s without on one with cheaper fresh memory (2026-12-02); binaries 855 s at load 6-12, 4375 s at load 26-38; images alone 89 s"

NH_BIN="$NH_CLUSTER_CACHE/k8s-v$NH_K8S_VERSION-etcd-v$NH_ETCD_VERSION/bin"
# Client tools for nh (not part of the cluster): helm. kustomize is `kubectl kustomize` ($NH_BIN/kubectl, built on
# first use: nh_need_kubectl).
NH_TOOLS_BIN="$NH_CLUSTER_CACHE/helm-v$NH_HELM_VERSION/bin"
NH_LOGS="$NH_CLUSTER_ROOT/logs"
NH_PIDS="$NH_CLUSTER_ROOT/pids"
NH_PKI="$NH_CLUSTER_ROOT/pki"
NH_CONF="$NH_CLUSTER_ROOT/config"
NH_KUBECONFIG="$NH_CLUSTER_ROOT/kubeconfig"
NH_CTR_SOCK="$NH_CLUSTER_RUN/containerd/containerd.sock"

# Ports: all on 127.0.0.1, deliberately away from the usual defaults (2379/6443/10250/...).
: "${NH_ETCD_PORT:=12379}"
: "${NH_ETCD_PEER_PORT:=12380}"
: "${NH_ETCD_METRICS_PORT:=12381}"
: "${NH_APISERVER_PORT:=16443}"
: "${NH_KCM_PORT:=20257}"
: "${NH_SCHED_PORT:=20259}"
: "${NH_KUBELET_PORT:=20250}"
: "${NH_KUBELET_HEALTHZ_PORT:=20248}"
: "${NH_PROXY_HEALTHZ_PORT:=20256}"
: "${NH_PROXY_METRICS_PORT:=20249}"
: "${NH_KUBE_PROXY:=1}"                # 1: run kube-proxy (iptables mode) so Service ClusterIPs route

# Pod network: own bridge name and a range unlikely to clash (not 10.244/16, not 10.88/16, not 172.17/16).
: "${NH_BRIDGE:=nhbr0}"
: "${NH_POD_CIDR:=10.213.0.0/24}"
: "${NH_SERVICE_CIDR:=10.213.128.0/24}"
: "${NH_CNI_NET:=nh-cluster}"
# Extra nodes (node.sh) carry this NoSchedule taint; pods meant for them tolerate it. Empty: no taint.
: "${NH_EXTRA_NODE_TAINT=nh-cluster/extra-node}"

NH_NODE="$(hostname)"
nh_service_ip() { echo "$NH_SERVICE_CIDR" | awk -F'[./]' '{print $1"."$2"."$3"."$4+1}'; }   # the kubernetes Service

nh_ts() { date +%H:%M:%S; }
log()  { printf '[nh-cluster %s] %s\n' "$(nh_ts)" "$*" >&2; }
die()  { printf '[nh-cluster %s] ERROR: %s\n' "$(nh_ts)" "$*" >&2; exit 1; }

# retry N DELAY CMD... : retry a command that may fail transiently (downloads)
retry() {
  local n=$1 delay=$2 i=1; shift 2
  while true; do
    if "$@"; then return 0; fi
    if [ "$i" -ge "$n" ]; then log "failed after $n attempts: $*"; return 1; fi
    log "attempt $i/$n failed: $* -- retrying in ${delay}s"
    sleep "$delay"; i=$((i + 1)); delay=$((delay * 2))
  done
}

nh_require_root() { [ "$(id -u)" = 0 ] || die "must run as root (needs containerd, mounts, iptables)"; }

# ---------------------------------------------------------------- Go compiles: huge pages while they run
# On these VMs every first touch of a 4 KiB page costs ≈ 15 µs (1 GiB: 3.9 s in 4 KiB pages, 0.07-0.14 s in
# 2 MiB ones), and a cold compile is ~2,500 short compiler processes that each touch their heap afresh. Go's
# runtime gets huge pages for its heap only when the kernel's mode is `always`; most distributions ship
# `madvise`. So a compile (build.sh, images.sh, tools.sh) switches the mode to `always` while it runs, and the
# last one running sets `madvise` back (each holds a file named by its pid under $NH_THP_DIR; a holder that is
# gone, killed before it could, is dropped by the next release, and up.sh releases too). `never` and `always` are
# left alone, and so is every mode with NH_BUILD_THP=0. With huge pages the compiler's own 128 MB start heap
# (fewer collections) is the cheaper side; without them GOGC=100 turns it off (fewer fresh pages): both measured
# in scripts/cluster/README.md, "First run".
NH_THP_MODE=/sys/kernel/mm/transparent_hugepage/enabled
NH_THP_DIR="$NH_CLUSTER_RUN/thp"
nh_go_compiles() {  # once per shell: nh_go_build_env, released by an EXIT trap (for a shell without one)
  [ -z "${NH_GO_COMPILES:-}" ] || return 0
  NH_GO_COMPILES=1; nh_go_build_env; trap nh_thp_release EXIT
}
nh_thp_mode() { sed -n 's/.*\[\(.*\)\].*/\1/p' "$NH_THP_MODE" 2>/dev/null; }
nh_compiles_get_huge_pages() {  # `always` already, or `madvise` that nh_go_build_env may switch
  case "$(nh_thp_mode)" in
    always) return 0;;
    madvise) [ "${NH_BUILD_THP:-1}" = 1 ] && [ -w "$NH_THP_MODE" ];;
    *) return 1;;
  esac
}
nh_go_build_env() {  # exports GOGC for this shell's compiles; the caller's EXIT trap must run nh_thp_release
  export GOGC=100
  nh_compiles_get_huge_pages || return 0
  mkdir -p "$NH_THP_DIR"
  ( flock 7
    if [ ! -f "$NH_THP_DIR/saved" ]; then
      case "$(nh_thp_mode)" in
        always) exit 0;;  # the machine's own setting: nothing to hold or set back
        madvise) ;;
        *) exit 1;;
      esac
      echo madvise > "$NH_THP_DIR/saved"
      echo always > "$NH_THP_MODE"
      log "transparent huge pages: 'always' while Go compiles (was 'madvise', set back after; NH_BUILD_THP=0: leave it)"
    fi
    : > "$NH_THP_DIR/holder.$$"
  ) 7> "$NH_THP_DIR/lock" || return 0
  unset GOGC
}
nh_thp_release() {  # drops this shell's hold; the last holder alive restores the saved mode
  [ -d "$NH_THP_DIR" ] || return 0
  ( flock 7
    rm -f "$NH_THP_DIR/holder.$$"
    for h in "$NH_THP_DIR"/holder.*; do
      [ -e "$h" ] || continue
      if nh_alive "${h##*.}"; then exit 0; fi
      rm -f "$h"
    done
    [ -f "$NH_THP_DIR/saved" ] || exit 0
    cat "$NH_THP_DIR/saved" > "$NH_THP_MODE" && rm -f "$NH_THP_DIR/saved"
  ) 7> "$NH_THP_DIR/lock"
}

# ---------------------------------------------------------------- process helpers
# pid files hold "PID BINARY"; a process counts as ours only if that pid still runs that binary.
nh_pid() {  # NAME -> prints pid if running
  local f="$NH_PIDS/$1.pid" pid bin exe
  [ -f "$f" ] || return 1
  read -r pid bin < "$f" || true
  [ -n "${pid:-}" ] && [ -d "/proc/$pid" ] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
  exe=${exe% (deleted)}
  [ -z "${bin:-}" ] || [ "$exe" = "$bin" ] || return 1
  echo "$pid"
}
nh_running() { nh_pid "$1" >/dev/null; }

nh_kill_tree() {  # PID : SIGTERM to a process and all its descendants (a background job of this script)
  local kids child
  kids=$(cat /proc/"$1"/task/*/children 2>/dev/null || true)
  kill -TERM "$1" 2>/dev/null || true
  for child in $kids; do nh_kill_tree "$child"; done
}

nh_alive() { [ -d "/proc/$1" ] && ! grep -qs '^State:[[:space:]]*Z' "/proc/$1/status"; }

nh_start() {  # NAME BINARY ARGS... : start a daemon in its own session, logging to $NH_LOGS/NAME.log
  local name=$1 bin=$2; shift 2
  if nh_running "$name"; then log "$name already running (pid $(nh_pid "$name"))"; return 0; fi
  log "starting $name"
  mkdir -p "$NH_LOGS" "$NH_PIDS"
  echo "==== $(date -u +%FT%TZ) start $name" >> "$NH_LOGS/$name.log"
  # Only stdin/out/err: a daemon that inherited a lock's descriptor (the up/down lock, a test's
  # `flock -x /tmp/nh-cluster.lock`) would hold that lock for as long as it runs.
  ( nh_close_fds; exec setsid "$bin" "$@" >> "$NH_LOGS/$name.log" 2>&1 < /dev/null ) &
  echo "$! $(readlink -f "$bin")" > "$NH_PIDS/$name.pid"
}

nh_close_fds() {  # closes every descriptor of this shell above 2
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

nh_wait_for() {  # NAME TIMEOUT_S CMD... : poll until CMD succeeds; fail with the component's log tail
  local name=$1 to=$2 i=0; shift 2
  until "$@" >/dev/null 2>&1; do
    if ! nh_running "$name"; then tail -n 25 "$NH_LOGS/$name.log" >&2; die "$name exited (log: $NH_LOGS/$name.log)"; fi
    i=$((i + 1)); [ "$i" -le $((to * 4)) ] || { tail -n 25 "$NH_LOGS/$name.log" >&2; die "$name not ready after ${to}s (log: $NH_LOGS/$name.log)"; }
    sleep 0.25
  done
}

nh_stop() {  # [-t TIMEOUT_S] NAME... : SIGTERM all, wait, then SIGKILL -- only the pids from our pid files
  local to=15 name pid pids="" i=0
  if [ "$1" = -t ]; then to=$2; shift 2; fi
  for name in "$@"; do
    if pid=$(nh_pid "$name"); then log "stopping $name (pid $pid)"; kill -TERM "$pid" 2>/dev/null || true; pids="$pids $pid"; fi
  done
  for pid in $pids; do
    while nh_alive "$pid" && [ "$i" -lt $((to * 10)) ]; do sleep 0.1; i=$((i + 1)); done
    if nh_alive "$pid"; then log "pid $pid did not exit after ${to}s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.3; fi
  done
  for name in "$@"; do rm -f "$NH_PIDS/$name.pid"; done
}

# pids of containerd-shim processes whose command line names OUR containerd socket
nh_shim_pids() {
  local p cl
  for p in /proc/[0-9]*; do
    cl=$( { tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null ) || continue
    case "$cl" in *containerd-shim*"$NH_CTR_SOCK"*) echo "${p#/proc/}";; esac
  done
}

# Removes every pod sandbox of the containerd at SOCKET through CRI while it still runs: that runs CNI DEL
# (iptables, IPs, netns) and ends the shims cleanly. crictl is built on the first teardown that has containers
# to remove (build.sh crictl): the cluster's first run does not need it.
nh_remove_pods() {  # SOCKET
  local crictl=("$NH_BIN/crictl" --runtime-endpoint "unix://$1" --timeout 20s) pods
  if [ ! -x "$NH_BIN/crictl" ]; then
    pods=$(ctr -a "$1" -n k8s.io containers ls -q 2>/dev/null) || pods=unknown
    [ -n "$pods" ] || return 0
    bash "$NH_SCRIPTS/build.sh" crictl || { log "WARNING: no crictl: pods are not removed through CRI"; return 0; }
  fi
  pods=$("${crictl[@]}" pods -q 2>/dev/null || true)
  [ -n "$pods" ] || return 0
  log "removing $(echo "$pods" | wc -l) pod sandbox(es)"
  # shellcheck disable=SC2086
  "${crictl[@]}" stopp $pods >/dev/null 2>&1 || true
  # shellcheck disable=SC2086
  "${crictl[@]}" rmp -f $pods >/dev/null 2>&1 || true
}

NH_COMPONENTS="containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet"
[ "$NH_KUBE_PROXY" = 1 ] && NH_COMPONENTS="$NH_COMPONENTS kube-proxy"

# kubectl is not built by the cluster's first run (its own packages are ≈ 54 CPU-s of a cold one): what needs it
# builds it on first use (build.sh kubectl, ≈ 40 s once the cluster is built), with a line saying so.
nh_need_kubectl() { [ -x "$NH_BIN/kubectl" ] || bash "$NH_SCRIPTS/build.sh" kubectl; }
nh_kubectl() { nh_need_kubectl && "$NH_BIN/kubectl" --kubeconfig "$NH_KUBECONFIG" "$@"; }

# The API server as the cluster's admin without kubectl, for the cluster's own start and the demo: curl with the
# admin client certificate gen-pki.sh writes, as kubectl's admin kubeconfig does. A user agent of its own: the API
# server indents its JSON for curl's.
nh_api() {  # METHOD PATH [JSON] : prints the body of the answer; fails unless the API server answers 2xx
  local body=()
  [ -z "${3:-}" ] || body=(-H 'Content-Type: application/json' --data-binary "$3")
  curl -fsS --max-time 10 -A nh-cluster-scripts --cacert "$NH_PKI/ca.crt" --cert "$NH_PKI/admin.crt" \
    --key "$NH_PKI/admin.key" -X "$1" "${body[@]}" "https://127.0.0.1:$NH_APISERVER_PORT$2"
}
# No jq: the API server writes compact JSON with the fields in their Go struct's order, so a condition reads
# "type", then "status".
nh_node_ready_status() {  # NODE : prints the status of its Ready condition (True, False, Unknown)
  local node
  node=$(nh_api GET "/api/v1/nodes/$1") || return 1
  [[ $node =~ \"type\":\"Ready\",\"status\":\"([A-Za-z]+)\" ]] || return 1
  echo "${BASH_REMATCH[1]}"
}
nh_lease_renewed() {  # NODE : prints when its kubelet last renewed its node lease (RFC 3339, UTC)
  local lease
  lease=$(nh_api GET "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/$1") || return 1
  [[ $lease =~ \"renewTime\":\"([^\"]+)\" ]] || return 1
  echo "${BASH_REMATCH[1]}"
}

# one up/down at a time (e.g. two test processes both finding the cluster down)
nh_lock() {
  [ "${NH_LOCK_HELD:-}" = 1 ] && return 0   # called from up.sh, which holds it
  mkdir -p "$NH_CLUSTER_ROOT"
  exec 9> "$NH_CLUSTER_ROOT/up-down.lock"
  if ! flock -n 9; then
    log "waiting for another nh-cluster up/down to finish"
    flock -w 900 9 || die "another up/down still holds $NH_CLUSTER_ROOT/up-down.lock after 15 min"
  fi
}

# Pods get no egress beyond this machine: forwarded traffic from the pod range to anything but the pod range is
# dropped (pod <-> host and pod <-> pod traffic does not pass FORWARD to another interface).
NH_EGRESS_RULE=(-s "$NH_POD_CIDR" ! -d "$NH_POD_CIDR" -m comment --comment "nh-cluster-no-egress" -j DROP)

# A network fault for tests: packets to the API server port dropped (not refused), in a chain of our own that
# INPUT and OUTPUT jump to, so removing it leaves every other rule alone.
NH_BLOCK_CHAIN=nh-cluster-block-apiserver
nh_block_apiserver() {
  iptables -N "$NH_BLOCK_CHAIN" 2>/dev/null || iptables -F "$NH_BLOCK_CHAIN"
  iptables -A "$NH_BLOCK_CHAIN" -p tcp -d 127.0.0.1 --dport "$NH_APISERVER_PORT" -j DROP
  iptables -A "$NH_BLOCK_CHAIN" -p tcp -s 127.0.0.1 --sport "$NH_APISERVER_PORT" -j DROP
  iptables -C INPUT -j "$NH_BLOCK_CHAIN" 2>/dev/null || iptables -I INPUT -j "$NH_BLOCK_CHAIN"
}
nh_unblock_apiserver() {
  iptables -S "$NH_BLOCK_CHAIN" >/dev/null 2>&1 || return 0
  while iptables -D INPUT -j "$NH_BLOCK_CHAIN" 2>/dev/null; do :; done
  iptables -F "$NH_BLOCK_CHAIN" && iptables -X "$NH_BLOCK_CHAIN"
}
