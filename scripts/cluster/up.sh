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

# ---------------------------------------------------------------- 1. host packages
ensure_packages() {
  local want="containerd runc containernetworking-plugins iptables iproute2 openssl busybox-static debootstrap gcc libc6-dev curl ca-certificates" missing="" p
  for p in $want; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null || missing="$missing $p"; done
  [ -z "$missing" ] && return 0
  log "installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  # run 'apt-get update' only when needed: no lists yet, or the install fails on stale lists
  if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ]; then
    retry 3 5 apt-get update -qq || die "apt-get update failed"
  fi
  # shellcheck disable=SC2086
  if ! apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
    retry 3 5 apt-get update -qq || die "apt-get update failed"
    # shellcheck disable=SC2086
    retry 3 10 apt-get install -y -qq --no-install-recommends $missing >/dev/null || die "apt-get install$missing failed"
  fi
}
ensure_packages
command -v containerd >/dev/null && command -v runc >/dev/null && [ -x /usr/lib/cni/bridge ] \
  || die "containerd/runc/CNI plugins not found after install"

# ---------------------------------------------------------------- 2. binaries and host checks
bash "$HERE/build.sh"
mkdir -p "$NH_CLUSTER_ROOT"; ln -sfn "$NH_BIN" "$NH_CLUSTER_ROOT/bin"   # stable path: $NH_CLUSTER_ROOT/bin/kubectl
bash "$HERE/tools.sh"   # helm for nh's app installer -> $NH_TOOLS_BIN, stable path $NH_CLUSTER_ROOT/tools-bin
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
SVC_IP=$(echo "$NH_SERVICE_CIDR" | awk -F'[./]' '{print $1"."$2"."$3"."$4+1}')
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
start() {  # NAME BINARY ARGS...
  local name=$1 bin=$2; shift 2
  if nh_running "$name"; then log "$name already running (pid $(nh_pid "$name"))"; return 0; fi
  log "starting $name"
  echo "==== $(date -u +%FT%TZ) start $name" >> "$NH_LOGS/$name.log"
  # 9>&- : the daemon must not inherit the up/down lock
  setsid "$bin" "$@" >> "$NH_LOGS/$name.log" 2>&1 < /dev/null 9>&- &
  echo "$! $(readlink -f "$bin")" > "$NH_PIDS/$name.pid"
}
wait_for() {  # NAME TIMEOUT_S CMD... : poll until CMD succeeds; fail with the component's log tail
  local name=$1 to=$2 i=0; shift 2
  until "$@" >/dev/null 2>&1; do
    if ! nh_running "$name"; then tail -n 25 "$NH_LOGS/$name.log" >&2; die "$name exited (log: $NH_LOGS/$name.log)"; fi
    i=$((i + 1)); [ "$i" -le $((to * 4)) ] || { tail -n 25 "$NH_LOGS/$name.log" >&2; die "$name not ready after ${to}s (log: $NH_LOGS/$name.log)"; }
    sleep 0.25
  done
}

iptables -C FORWARD "${NH_EGRESS_RULE[@]}" 2>/dev/null || iptables -I FORWARD "${NH_EGRESS_RULE[@]}" \
  || log "WARNING: could not add the FORWARD rule that keeps pods off the outside network"
start containerd "$(command -v containerd)" --config "$NH_CONF/containerd.toml"
wait_for containerd 30 ctr -a "$NH_CTR_SOCK" version
log "containerd ready ($(elapsed))"

bash "$HERE/images.sh"

start etcd "$NH_BIN/etcd" --name nh --data-dir "$NH_CLUSTER_ROOT/etcd" \
  --listen-client-urls "http://127.0.0.1:$NH_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$NH_ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$NH_ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$NH_ETCD_PEER_PORT" \
  --initial-cluster "nh=http://127.0.0.1:$NH_ETCD_PEER_PORT" --listen-metrics-urls "http://127.0.0.1:$NH_ETCD_METRICS_PORT" \
  --unsafe-no-fsync --quota-backend-bytes=2147483648 --log-level=warn
wait_for etcd 30 curl -fsS "http://127.0.0.1:$NH_ETCD_PORT/health"
log "etcd ready ($(elapsed))"

P=$NH_PKI
start kube-apiserver "$NH_BIN/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$NH_ETCD_PORT" \
  --bind-address=127.0.0.1 --secure-port="$NH_APISERVER_PORT" \
  --advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" --client-ca-file="$P/ca.crt" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range="$NH_SERVICE_CIDR" \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --allow-privileged=true \
  --kubelet-client-certificate="$P/apiserver-kubelet-client.crt" --kubelet-client-key="$P/apiserver-kubelet-client.key" \
  --kubelet-preferred-address-types=Hostname,InternalIP \
  --profiling=false --v=1
wait_for kube-apiserver 60 "$NH_BIN/kubectl" --kubeconfig "$NH_KUBECONFIG" get --raw /readyz
log "kube-apiserver ready ($(elapsed))"

# A dev cluster changes many workloads at once (nh up of a whole app): the controller-manager's defaults
# (20 API requests/s, 5 deployment syncs at a time) queue that work behind its own rate limiter.
start kube-controller-manager "$NH_BIN/kube-controller-manager" \
  --kubeconfig="$P/kube-controller-manager.kubeconfig" \
  --authentication-kubeconfig="$P/kube-controller-manager.kubeconfig" \
  --authorization-kubeconfig="$P/kube-controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$NH_KCM_PORT" --leader-elect=false \
  --root-ca-file="$P/ca.crt" --cluster-name=nh-cluster \
  --service-account-private-key-file="$P/sa.key" --use-service-account-credentials=true \
  --cluster-signing-cert-file="$P/ca.crt" --cluster-signing-key-file="$P/ca.key" \
  --service-cluster-ip-range="$NH_SERVICE_CIDR" --profiling=false --v=1 \
  --kube-api-qps=100 --kube-api-burst=200 \
  --concurrent-deployment-syncs=20 --concurrent-replicaset-syncs=20 --concurrent-statefulset-syncs=20
start kube-scheduler "$NH_BIN/kube-scheduler" \
  --kubeconfig="$P/kube-scheduler.kubeconfig" \
  --authentication-kubeconfig="$P/kube-scheduler.kubeconfig" --authorization-kubeconfig="$P/kube-scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$NH_SCHED_PORT" --leader-elect=false --profiling=false --v=1
KUBELET_STARTED=$(date -u -d @$(( $(date +%s) - 1 )) +%Y-%m-%dT%H:%M:%SZ)
nh_running kubelet && KUBELET_STARTED=""
start kubelet "$NH_BIN/kubelet" --config="$NH_CONF/kubelet.yaml" --kubeconfig="$P/kubelet.kubeconfig" \
  --root-dir="$NH_CLUSTER_ROOT/kubelet" --cert-dir="$NH_CLUSTER_ROOT/kubelet/pki" --v=1

if [ "$NH_KUBE_PROXY" = 1 ]; then
  # Service ClusterIPs: iptables mode; masquerade-all so replies between pods on the same bridge come back
  # through the host without br_netfilter; NodePorts only on the bridge's own address (reachable from this
  # machine and its pods, nothing else); no conntrack sysctl changes.
  POD_GW=$(echo "$NH_POD_CIDR" | awk -F'[./]' '{print $1"."$2"."$3"."$4+1}')
  start kube-proxy "$NH_BIN/kube-proxy" --kubeconfig="$P/kube-proxy.kubeconfig" --hostname-override="$NH_NODE" \
    --proxy-mode=iptables --cluster-cidr="$NH_POD_CIDR" --masquerade-all=true \
    --bind-address=127.0.0.1 --healthz-bind-address="127.0.0.1:$NH_PROXY_HEALTHZ_PORT" \
    --metrics-bind-address="127.0.0.1:$NH_PROXY_METRICS_PORT" --nodeport-addresses="$POD_GW/32" \
    --iptables-localhost-nodeports=false --conntrack-max-per-core=0 \
    --conntrack-tcp-timeout-established=0 --conntrack-tcp-timeout-close-wait=0 --v=1
fi

wait_for kube-controller-manager 30 curl -fsSk "https://127.0.0.1:$NH_KCM_PORT/healthz"
wait_for kube-scheduler 30 curl -fsSk "https://127.0.0.1:$NH_SCHED_PORT/healthz"
wait_for kubelet 60 curl -fsS "http://127.0.0.1:$NH_KUBELET_HEALTHZ_PORT/healthz"
[ "$NH_KUBE_PROXY" = 1 ] && wait_for kube-proxy 60 curl -fsS "http://127.0.0.1:$NH_PROXY_HEALTHZ_PORT/healthz"
log "controller-manager, scheduler, kubelet$([ "$NH_KUBE_PROXY" = 1 ] && echo ', kube-proxy') healthy ($(elapsed))"

node_ready() {  # Ready=True, and the node lease renewed by the kubelet we just started (not stale state)
  local st renew
  st=$(nh_kubectl get node "$NH_NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) || return 1
  [ "$st" = True ] || return 1
  [ -z "$KUBELET_STARTED" ] && return 0
  renew=$(nh_kubectl -n kube-node-lease get lease "$NH_NODE" -o 'jsonpath={.spec.renewTime}' 2>/dev/null) || return 1
  [[ ! "$renew" < "$KUBELET_STARTED" ]]
}
wait_for kubelet 120 node_ready
# pods can only be created once the ServiceAccount controller has made 'default' in the namespace
wait_for kube-controller-manager 60 nh_kubectl -n default get serviceaccount default
log "node $NH_NODE Ready; cluster up in $(elapsed)  (logs: $NH_LOGS)"
echo "$NH_KUBECONFIG"
