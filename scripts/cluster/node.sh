#!/usr/bin/env bash
# An extra node of the local cluster on the same machine: its own containerd (socket, root, state, runc root),
# its own kubelet (ports, root dir, cgroup root, pod logs), its own bridge and pod range; still all on loopback.
#   node.sh up N       start node N (2..9) and wait until it is Ready; images are imported into its containerd
#   node.sh down N     remove node N: its pods, kubelet, containerd, shims, bridge, rules, mounts, cgroups, Node
#   node.sh status N   exit 0 when node N runs and is Ready
# Node N registers with the taint $NH_EXTRA_NODE_TAINT (NoSchedule): only pods that tolerate it (the multi-node
# tests') land there, so tests running beside it on the shared cluster keep all their pods on node 1.
# NH_EXTRA_NODE_TAINT= (empty) makes it an ordinary node.
# up.sh runs `node.sh up 2` when NH_CLUSTER_NODES=2; down.sh removes every extra node first. kubectl (the node's
# taints, its pods) is built on first use (lib.sh, nh_need_kubectl).
# Node N is `$(hostname)-N` (an /etc/hosts line maps it to 127.0.0.1: the apiserver reaches kubelets by
# hostname), kubelet on 127.0.0.1:20250+10(N-1), pods in 10.213.(N-1).0/24 on bridge nhbr(N-1). One kube-proxy
# (node 1's) serves the whole machine: both nodes share its network namespace.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
nh_require_root

ACTION=${1:-}; N=${2:-}
case "$N" in [2-9]) ;; *) die "usage: node.sh up|down|status N   (N: 2..9; node 1 is up.sh's)" ;; esac

NODE_NAME="$NH_NODE-$N"
NODE_ROOT="$NH_CLUSTER_ROOT/node$N"
NODE_RUN="$NH_CLUSTER_RUN/node$N"
NODE_CONF="$NODE_ROOT/config"
NODE_PKI="$NODE_ROOT/pki"
NODE_SOCK="$NODE_RUN/containerd/containerd.sock"
NODE_BRIDGE="nhbr$((N - 1))"
NODE_CIDR=$(echo "$NH_POD_CIDR" | awk -F'[./]' -v i=$((N - 1)) '{print $1"."$2"."$3+i".0/"$5}')
NODE_NET="$NH_CNI_NET-$N"
NODE_KUBELET_PORT=$((NH_KUBELET_PORT + 10 * (N - 1)))
NODE_HEALTHZ_PORT=$((NH_KUBELET_HEALTHZ_PORT + 10 * (N - 1)))
NODE_CGROUP="nh-node$N"   # the kubelet's cgroupRoot: node 1's kubelet owns /kubepods and removes what it does not know there
CONTAINERD="containerd-$N"; KUBELET="kubelet-$N"
# Pods of every node talk to each other through the host (a route per bridge); the rest is dropped as for node 1.
CROSS_TAG="nh-cluster-node$N"
CROSS_RULES=(
  "-s $NODE_CIDR -d $NH_POD_CIDR -m comment --comment $CROSS_TAG -j ACCEPT"
  "-s $NH_POD_CIDR -d $NODE_CIDR -m comment --comment $CROSS_TAG -j ACCEPT"
)
EGRESS_RULE="-s $NODE_CIDR ! -d $NODE_CIDR -m comment --comment $CROSS_TAG -j DROP"

cgroup_dirs() { local d; for d in /sys/fs/cgroup/*/; do [ -f "$d/cgroup.procs" ] && [ "${d%/}" != /sys/fs/cgroup/unified ] && echo "${d%/}/$NODE_CGROUP"; done; }
# Ready, and the node controller has lifted its not-ready and unreachable taints: until then nothing schedules there, and a caller
# that reads the node's taints right after would see it.
node_ready() {
  local state
  state=$(nh_kubectl get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.spec.taints[*].key}' 2>/dev/null) || return 1
  [[ "$state" == True* && "$state" != *node.kubernetes.io/not-ready* && "$state" != *node.kubernetes.io/unreachable* ]]
}

up() {
  nh_running kube-apiserver || die "node 1 is not up: run up.sh first"
  mkdir -p "$NODE_CONF/cni" "$NODE_PKI" "$NODE_RUN" "$NODE_ROOT/kubelet" "$NODE_ROOT/cni-ipam" "$NODE_ROOT/pod-logs"
  getent hosts "$NODE_NAME" >/dev/null || { log "adding '127.0.0.1 $NODE_NAME' to /etc/hosts"; echo "127.0.0.1 $NODE_NAME" >> /etc/hosts; }
  bash "$HERE/gen-pki.sh" "$NH_PKI" "$NH_NODE" "https://127.0.0.1:$NH_APISERVER_PORT" "$(nh_service_ip)" "$NODE_NAME"
  cp "$NH_PKI/ca.crt" "$NODE_PKI/ca.crt"
  for f in crt key kubeconfig; do cp "$NH_PKI/kubelet-$NODE_NAME.$f" "$NODE_PKI/kubelet.$f"; done

  # The node-1 templates, rendered with this node's paths, socket, bridge, range and ports.
  local v out
  for pair in containerd.toml:containerd.toml cni.conflist:cni/10-nh-cluster.conflist kubelet.yaml:kubelet.yaml; do
    out="$NODE_CONF/${pair#*:}"; cp "$HERE/templates/${pair%%:*}" "$out.tmp"
    for v in $(grep -o '@[A-Z_]*@' "$out.tmp" | sort -u | tr -d '@'); do
      sed -i "s|@$v@|$(node_value "$v")|g" "$out.tmp"
    done
    mv "$out.tmp" "$out"
  done
  echo "cgroupRoot: /$NODE_CGROUP" >> "$NODE_CONF/kubelet.yaml"
  [ -z "$NH_EXTRA_NODE_TAINT" ] || printf 'registerWithTaints:\n- {key: "%s", value: "%s", effect: NoSchedule}\n' "$NH_EXTRA_NODE_TAINT" "$N" >> "$NODE_CONF/kubelet.yaml"
  echo "nameserver 127.0.0.1" > "$NODE_CONF/resolv.conf"

  # cgroup v1: the root must exist in every hierarchy, and a new cpuset is empty until given the parent's cpus and mems.
  for d in $(cgroup_dirs); do mkdir -p "$d"; done
  local cpuset=/sys/fs/cgroup/cpuset/$NODE_CGROUP
  if [ -d "$cpuset" ]; then cat /sys/fs/cgroup/cpuset/cpuset.cpus > "$cpuset/cpuset.cpus"; cat /sys/fs/cgroup/cpuset/cpuset.mems > "$cpuset/cpuset.mems"; fi

  iptables -C FORWARD $EGRESS_RULE 2>/dev/null || iptables -I FORWARD $EGRESS_RULE
  local r; for r in "${CROSS_RULES[@]}"; do iptables -C FORWARD $r 2>/dev/null || iptables -I FORWARD $r; done

  nh_start "$CONTAINERD" "$(command -v containerd)" --config "$NODE_CONF/containerd.toml"
  nh_wait_for "$CONTAINERD" 30 ctr -a "$NODE_SOCK" version
  NH_CLUSTER_RUN="$NODE_RUN" bash "$HERE/images.sh" --import
  nh_start "$KUBELET" "$NH_BIN/kubelet" --config="$NODE_CONF/kubelet.yaml" --kubeconfig="$NODE_PKI/kubelet.kubeconfig" \
    --hostname-override="$NODE_NAME" --root-dir="$NODE_ROOT/kubelet" --cert-dir="$NODE_ROOT/kubelet/pki" --v=1
  nh_wait_for "$KUBELET" 60 curl -fsS "http://127.0.0.1:$NODE_HEALTHZ_PORT/healthz"
  nh_wait_for "$KUBELET" 120 node_ready
  # The kubelet taints only a Node it creates; a Node object left from before keeps what it had.
  [ -z "$NH_EXTRA_NODE_TAINT" ] || nh_kubectl taint node "$NODE_NAME" "$NH_EXTRA_NODE_TAINT=$N:NoSchedule" --overwrite >/dev/null
  log "node $NODE_NAME Ready${NH_EXTRA_NODE_TAINT:+, tainted $NH_EXTRA_NODE_TAINT=$N:NoSchedule} (kubelet 127.0.0.1:$NODE_KUBELET_PORT, pods $NODE_CIDR on $NODE_BRIDGE)"
}

node_value() {  # a template variable, for this node
  case "$1" in
    NH_CLUSTER_ROOT) echo "$NODE_ROOT" ;;
    NH_CLUSTER_RUN) echo "$NODE_RUN" ;;
    NH_CONF) echo "$NODE_CONF" ;;
    NH_PKI) echo "$NODE_PKI" ;;
    NH_CTR_SOCK) echo "$NODE_SOCK" ;;
    NH_BRIDGE) echo "$NODE_BRIDGE" ;;
    NH_POD_CIDR) echo "$NODE_CIDR" ;;
    NH_CNI_NET) echo "$NODE_NET" ;;
    NH_KUBELET_PORT) echo "$NODE_KUBELET_PORT" ;;
    NH_KUBELET_HEALTHZ_PORT) echo "$NODE_HEALTHZ_PORT" ;;
    *) die "templates: no value of $1 for node $N" ;;
  esac
}

down() {
  if nh_running kube-apiserver && nh_kubectl get node "$NODE_NAME" >/dev/null 2>&1; then
    log "deleting the pods on $NODE_NAME and the Node"
    nh_kubectl delete pods -A --field-selector "spec.nodeName=$NODE_NAME" --grace-period=1 --wait=false >/dev/null 2>&1 || true
  fi
  nh_stop -t 20 "$KUBELET"
  if nh_running "$CONTAINERD"; then nh_remove_pods "$NODE_SOCK"; fi
  nh_stop -t 20 "$CONTAINERD"
  local shims; shims=$(NH_CTR_SOCK="$NODE_SOCK" nh_shim_pids || true)
  # shellcheck disable=SC2086
  if [ -n "$shims" ]; then kill -KILL $shims 2>/dev/null || true; fi
  local d p
  for d in $(cgroup_dirs); do
    [ -d "$d" ] || continue
    for p in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  local mounts; mounts=$(awk -v a="$NODE_ROOT/" -v b="$NODE_RUN/" 'index($2,a)==1 || index($2,b)==1 {print $2}' /proc/self/mounts | sort -r)
  for d in $mounts; do umount "$d" 2>/dev/null || umount -l "$d" 2>/dev/null || true; done
  if ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then ip link del "$NODE_BRIDGE" || true; fi
  local r tag="\\\"$NODE_NET\\\"" table
  for table in nat filter; do
    while IFS= read -r r; do [ -n "$r" ] && eval "iptables -t $table -D ${r#-A }" 2>/dev/null || true; done \
      < <(iptables-save -t "$table" 2>/dev/null | grep -F -- "$tag" | grep '^-A' || true)
    for r in $(iptables-save -t "$table" 2>/dev/null | grep -F -- "$tag" | grep -o -- '-j CNI-[A-Za-z0-9-]*' | awk '{print $2}' | sort -u); do
      iptables -t "$table" -F "$r" 2>/dev/null || true; iptables -t "$table" -X "$r" 2>/dev/null || true
    done
  done
  while iptables -D FORWARD $EGRESS_RULE 2>/dev/null; do :; done
  for r in "${CROSS_RULES[@]}"; do while iptables -D FORWARD $r 2>/dev/null; do :; done; done
  rm -rf "${NODE_ROOT:?}/cni-ipam" /var/lib/cni/results/"$NODE_NET"-*
  if nh_running kube-apiserver; then nh_kubectl delete node "$NODE_NAME" --ignore-not-found >/dev/null 2>&1 || true; fi
  local left=""
  nh_running "$KUBELET" && left="$left kubelet"
  nh_running "$CONTAINERD" && left="$left containerd"
  [ -z "$(NH_CTR_SOCK="$NODE_SOCK" nh_shim_pids)" ] || left="$left shims"
  ip link show "$NODE_BRIDGE" >/dev/null 2>&1 && left="$left bridge"
  iptables-save 2>/dev/null | grep -F -e "$tag" -e "$CROSS_TAG" >/dev/null && left="$left iptables-rules"
  [ -z "$left" ] || die "node $NODE_NAME: still present after down:$left"
  log "node $NODE_NAME down"
}

case "$ACTION" in
  up) nh_lock; nh_need_kubectl; up ;;
  down) nh_lock; down ;;
  status)
    if pid=$(nh_pid "$KUBELET") && nh_running "$CONTAINERD" && node_ready; then echo "node $NODE_NAME: Ready (kubelet pid $pid)"; exit 0; fi
    echo "node $NODE_NAME: not running"; exit 1 ;;
  *) die "usage: node.sh up|down|status N" ;;
esac
