#!/usr/bin/env bash
# Bring up the nh local single-node cluster (idempotent). Last line of output: the kubeconfig path.
#   containerd (private socket/root/state/runc root, CNI bridge nhbr0) + etcd + kube-apiserver +
#   kube-controller-manager + kube-scheduler + kubelet, all listening on 127.0.0.1 only.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
nh_require_root
nh_lock
T0=$(date +%s)
elapsed() { echo "$(( $(date +%s) - T0 ))s"; }

# ---------------------------------------------------------------- 1. packages, binaries, images (cached)
bash "$HERE/prepare.sh"
nh_thp_release   # the huge-page mode a killed compile left switched (lib.sh), unless another compile still runs
mkdir -p "$NH_CLUSTER_ROOT"; ln -sfn "$NH_BIN" "$NH_CLUSTER_ROOT/bin"   # stable path: $NH_CLUSTER_ROOT/bin/kubectl (built on first use)
# kubectl (build.sh kubectl), crictl and helm (tools.sh) are not built here: the cluster's start and the demo do not
# need them (the waits below ask the API server with curl: lib.sh, nh_api); what needs them builds them when missing

# ---------------------------------------------------------------- 2. host checks
mkdir -p "$NH_LOGS" "$NH_PIDS" "$NH_CONF/cni" "$NH_CLUSTER_RUN" "$NH_CLUSTER_ROOT/kubelet" "$NH_CLUSTER_ROOT/cni-ipam" "$NH_CLUSTER_ROOT/pod-logs"

# Leftovers of a cluster that was killed rather than stopped with down.sh (e.g. the machine's session ended):
# stale pid files, our bridge, mounts under our dirs, orphaned shims. down.sh cleans those up by pid/socket/name.
if ! nh_running containerd && ! nh_running etcd && ! nh_running kube-apiserver && ! nh_running kubelet; then
  if ls "$NH_PIDS"/*.pid >/dev/null 2>&1 || ip link show "$NH_BRIDGE" >/dev/null 2>&1 \
     || grep -qs -e " $NH_CLUSTER_RUN/" -e " $NH_CLUSTER_ROOT/" /proc/self/mounts || [ -n "$(nh_shim_pids)" ]; then
    log "cleaning up leftovers of a cluster that was not stopped with down.sh"
    NH_LOCK_HELD=1 bash "$HERE/down.sh" || log "WARNING: cleanup of leftovers reported a problem; continuing"
  fi
fi

if ! getent hosts "$NH_NODE" >/dev/null; then
  log "adding '127.0.0.1 $NH_NODE' to /etc/hosts (the apiserver reaches the kubelet by hostname)"
  echo "127.0.0.1 $NH_NODE" >> /etc/hosts
fi
case "$(getent hosts "$NH_NODE" | awk '{print $1; exit}')" in
  127.*) ;;
  *) log "WARNING: '$NH_NODE' does not resolve to 127.x; the apiserver reaches the kubelet (exec/logs/port-forward) via that name on 127.0.0.1 -- add '127.0.0.1 $NH_NODE' to /etc/hosts" ;;
esac
[ -d /sys/fs/cgroup/memory ] || [ -f /sys/fs/cgroup/cgroup.controllers ] || die "no usable cgroup hierarchy under /sys/fs/cgroup"
if [ "${NH_NODE,,}" != "$NH_NODE" ]; then die "hostname '$NH_NODE' must be lowercase (node name)"; fi

# ---------------------------------------------------------------- 3. PKI + config
APISERVER_URL="https://127.0.0.1:$NH_APISERVER_PORT"
SVC_IP=$(nh_service_ip)
if [ ! -f "$NH_PKI/.complete" ] || [ "$(cat "$NH_PKI/.complete")" != "$NH_NODE $APISERVER_URL $SVC_IP" ]; then
  log "generating PKI in $NH_PKI"
  rm -rf "$NH_PKI"
  bash "$HERE/gen-pki.sh" "$NH_PKI" "$NH_NODE" "$APISERVER_URL" "$SVC_IP"
  echo "$NH_NODE $APISERVER_URL $SVC_IP" > "$NH_PKI/.complete"
else
  bash "$HERE/gen-pki.sh" "$NH_PKI" "$NH_NODE" "$APISERVER_URL" "$SVC_IP"   # adds certs of new components only
fi
install -m 600 "$NH_PKI/admin.kubeconfig" "$NH_KUBECONFIG.tmp" && mv "$NH_KUBECONFIG.tmp" "$NH_KUBECONFIG"

render() {  # TEMPLATE OUT : replace @VAR@ with the value of $VAR
  local src=$1 out=$2 v
  cp "$src" "$out.tmp"
  for v in $(grep -o '@[A-Z_]*@' "$src" | sort -u | tr -d '@'); do
    sed -i "s|@$v@|${!v}|g" "$out.tmp"
  done
  mv "$out.tmp" "$out"
}
render "$HERE/templates/containerd.toml" "$NH_CONF/containerd.toml"
render "$HERE/templates/cni.conflist" "$NH_CONF/cni/10-nh-cluster.conflist"
render "$HERE/templates/kubelet.yaml" "$NH_CONF/kubelet.yaml"
echo "nameserver 127.0.0.1" > "$NH_CONF/resolv.conf"   # pods: no DNS add-on, never the VM's resolver

# ---------------------------------------------------------------- 4. processes
# shellcheck source=components.sh
. "$HERE/components.sh"
iptables -C FORWARD "${NH_EGRESS_RULE[@]}" 2>/dev/null || iptables -I FORWARD "${NH_EGRESS_RULE[@]}" \
  || log "WARNING: could not add the FORWARD rule that keeps pods off the outside network"
nh_unblock_apiserver   # a packet-drop fault left behind by an interrupted test (component.sh block)
start_component containerd
log "containerd ready ($(elapsed))"

# The images go into containerd while the control plane starts (a first start imports ≈ 700 MB, ≈ 20 s); no pod
# can be scheduled before the node is Ready, and the script waits for the import before it says the cluster is up.
bash "$HERE/images.sh" --import & import_job=$!
trap 'nh_kill_tree "$import_job"' EXIT

start_component etcd
log "etcd ready ($(elapsed))"
start_component kube-apiserver
log "kube-apiserver ready ($(elapsed))"

launch_kube-controller-manager
launch_kube-scheduler
KUBELET_STARTED=$(date -u -d @$(( $(date +%s) - 1 )) +%Y-%m-%dT%H:%M:%SZ)
nh_running kubelet && KUBELET_STARTED=""
launch_kubelet
[ "$NH_KUBE_PROXY" = 1 ] && launch_kube-proxy

await_kube-controller-manager
await_kube-scheduler
await_kubelet
[ "$NH_KUBE_PROXY" = 1 ] && await_kube-proxy
log "controller-manager, scheduler, kubelet$([ "$NH_KUBE_PROXY" = 1 ] && echo ', kube-proxy') healthy ($(elapsed))"

node_ready() {  # Ready=True, and the node lease renewed by the kubelet we just started (not stale state)
  local renew
  [ "$(nh_node_ready_status "$NH_NODE")" = True ] || return 1
  [ -z "$KUBELET_STARTED" ] && return 0
  renew=$(nh_lease_renewed "$NH_NODE") || return 1
  [[ ! "$renew" < "$KUBELET_STARTED" ]]
}
nh_wait_for kubelet 120 node_ready
# pods can only be created once the ServiceAccount controller has made 'default' in the namespace
nh_wait_for kube-controller-manager 60 nh_api GET /api/v1/namespaces/default/serviceaccounts/default
wait "$import_job" || die "importing the images into containerd failed (see the output above)"
trap - EXIT
log "node $NH_NODE Ready; cluster up in $(elapsed)  (logs: $NH_LOGS)"
# NH_CLUSTER_NODES=2 (or more): extra nodes on this machine, each with its own containerd and kubelet (node.sh).
for n in $(seq 2 "${NH_CLUSTER_NODES:-1}"); do NH_LOCK_HELD=1 bash "$HERE/node.sh" up "$n"; done
echo "$NH_KUBECONFIG"
