#!/usr/bin/env bash
# Stop the nh local cluster: exactly the processes up.sh started (by pid file), the container shims of
# OUR containerd (by socket in their command line), then the bridge, iptables rules, mounts it left.
# Keeps: built binaries, images (containerd content store), PKI, so the next up.sh is fast.
#   down.sh --purge   also deletes etcd data and all containerd state (images are re-imported on up)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
nh_require_root
nh_lock
PURGE=0; [ "${1:-}" = --purge ] && PURGE=1
T0=$(date +%s)

# 0. extra nodes (node.sh), whatever NH_CLUSTER_NODES says now: those with a pid file or a bridge left
for n in 2 3 4 5 6 7 8 9; do
  if [ -f "$NH_PIDS/kubelet-$n.pid" ] || [ -f "$NH_PIDS/containerd-$n.pid" ] || ip link show "nhbr$((n - 1))" >/dev/null 2>&1; then
    NH_LOCK_HELD=1 bash "$HERE/node.sh" down "$n"
  fi
done

# 1. kubelet first, so it does not restart pods while we tear them down
nh_stop -t 20 kubelet kube-proxy kube-scheduler kube-controller-manager
# kube-proxy's and the kubelet's iptables chains (KUBE-*): only when no other (live) kube-proxy/kubelet runs
foreign_running() { local p; for p in $(pgrep -x "$1" 2>/dev/null); do nh_alive "$p" && return 0; done; return 1; }
del_chain() {  # TABLE CHAIN: delete the rules that jump to it, then the chain
  local t=$1 c=$2 r
  iptables-save -t "$t" 2>/dev/null | grep "^:$c " >/dev/null || return 0
  while IFS= read -r r; do
    [ -n "$r" ] && eval "iptables -t $t -D ${r#-A }" 2>/dev/null || true
  done < <(iptables-save -t "$t" 2>/dev/null | grep -E -- "^-A .* -j $c( |\$)")
  iptables -t "$t" -F "$c" 2>/dev/null || true; iptables -t "$t" -X "$c" 2>/dev/null || true
}
if [ -x "$NH_BIN/kube-proxy" ] && ! foreign_running kube-proxy \
   && iptables-save -t nat 2>/dev/null | grep '^:KUBE-SERVICES' >/dev/null; then
  log "removing kube-proxy's iptables rules (kube-proxy --cleanup)"
  "$NH_BIN/kube-proxy" --cleanup --proxy-mode=iptables >> "$NH_LOGS/kube-proxy.log" 2>&1 || true
fi
if ! foreign_running kubelet; then
  for t in filter nat mangle; do del_chain "$t" KUBE-FIREWALL; del_chain "$t" KUBE-KUBELET-CANARY; done
  del_chain mangle KUBE-IPTABLES-HINT
fi

# 2. remove all pod sandboxes through CRI while containerd still runs (CNI DEL, iptables, IPs, netns; the
#    shims end cleanly)
if nh_running containerd; then nh_remove_pods "$NH_CTR_SOCK"; fi
nh_stop -t 20 containerd

# 3. shims of OUR containerd that outlived it (their cmdline names our socket)
shims=$(nh_shim_pids || true)
if [ -n "$shims" ]; then
  log "stopping leftover containerd shims: $(echo $shims)"
  # shellcheck disable=SC2086
  kill -TERM $shims 2>/dev/null || true; sleep 1
  shims=$(nh_shim_pids || true)
  # shellcheck disable=SC2086
  [ -z "$shims" ] || kill -KILL $shims 2>/dev/null || true
fi
# any container process still in a cgroup the kubelet created for pods gets killed too
for f in /sys/fs/cgroup/pids/kubepods/cgroup.procs /sys/fs/cgroup/pids/kubepods/*/cgroup.procs \
         /sys/fs/cgroup/pids/kubepods/*/*/cgroup.procs /sys/fs/cgroup/pids/kubepods/*/*/*/cgroup.procs; do
  [ -f "$f" ] || continue
  for p in $(cat "$f" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
done

nh_stop kube-apiserver
nh_stop etcd

# 4. mounts under our dirs (pod volumes, sandbox shm, overlay rootfs), deepest first
mounts=$(awk -v a="$NH_CLUSTER_ROOT/" -v b="$NH_CLUSTER_RUN/" 'index($2,a)==1 || index($2,b)==1 {print $2}' /proc/self/mounts | sort -r)
if [ -n "$mounts" ]; then
  log "unmounting $(echo "$mounts" | wc -l) leftover mount(s)"
  for m in $mounts; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
fi

# 5. network leftovers: our bridge, iptables rules/chains tagged with our CNI network name, IPAM state
if ip link show "$NH_BRIDGE" >/dev/null 2>&1; then log "deleting bridge $NH_BRIDGE"; ip link del "$NH_BRIDGE" || true; fi
# the CNI plugins tag their rules with a comment 'name: "<network>" id: "<container>"' (escaped by iptables-save)
tag="\\\"$NH_CNI_NET\\\""
if command -v iptables-save >/dev/null; then
  for table in nat filter; do
    chains=$(iptables-save -t "$table" 2>/dev/null | grep -F -- "$tag" | grep -o -- '-j CNI-[A-Za-z0-9-]*' | awk '{print $2}' | sort -u || true)
    rules=$(iptables-save -t "$table" 2>/dev/null | grep -F -- "$tag" | grep '^-A' || true)
    [ -z "$rules" ] || log "removing $(echo "$rules" | wc -l) iptables rule(s) of $NH_CNI_NET in table $table"
    while IFS= read -r r; do
      [ -n "$r" ] || continue
      eval "iptables -t $table -D ${r#-A }" 2>/dev/null || true
    done <<< "$rules"
    for c in $chains; do iptables -t "$table" -F "$c" 2>/dev/null || true; iptables -t "$table" -X "$c" 2>/dev/null || true; done
  done
fi
while iptables -D FORWARD "${NH_EGRESS_RULE[@]}" 2>/dev/null; do :; done
nh_unblock_apiserver
rm -rf "${NH_CLUSTER_ROOT:?}/cni-ipam" /var/lib/cni/results/"$NH_CNI_NET"-*
# netns files containerd made for pods and that were not removed (no pod left on our bridge)
if [ -d /var/run/netns ]; then
  for ns in /var/run/netns/cni-*; do
    [ -e "$ns" ] || continue
    # only namespaces whose veth peer was on our bridge are ours; with the bridge gone, an empty netns
    # (only lo / eth0 without a peer) left by our containerd is recognised by its absence in any process
    if ! ip netns pids "$(basename "$ns")" 2>/dev/null | grep . >/dev/null; then
      if grep -qs "$(basename "$ns")" "$NH_LOGS/containerd.log"; then ip netns del "$(basename "$ns")" 2>/dev/null || true; fi
    fi
  done
fi

if [ "$PURGE" = 1 ]; then
  log "purging etcd data and containerd state"
  rm -rf "${NH_CLUSTER_ROOT:?}/etcd" "${NH_CLUSTER_ROOT:?}/containerd" "${NH_CLUSTER_ROOT:?}/kubelet" "${NH_CLUSTER_RUN:?}"
fi

# (pipelines below use 'grep >/dev/null', not 'grep -q': with pipefail, grep -q exiting early makes the
#  writer die of SIGPIPE and the whole test false)
# 6. verify
left=""
for c in $NH_COMPONENTS; do nh_running "$c" && left="$left $c"; done
shims=$(nh_shim_pids || true)
[ -z "$shims" ] || left="$left shims($(echo $shims))"
if ip link show "$NH_BRIDGE" >/dev/null 2>&1; then left="$left bridge:$NH_BRIDGE"; fi
if iptables-save 2>/dev/null | grep -F -e "$tag" -e nh-cluster-no-egress -e "$NH_BLOCK_CHAIN" >/dev/null; then left="$left iptables-rules"; fi
if [ -x "$NH_BIN/kube-proxy" ] && iptables-save -t nat 2>/dev/null | grep -e '^:KUBE-SERVICES' -e '^:KUBE-SVC-' >/dev/null \
   && ! foreign_running kube-proxy; then left="$left kube-proxy-rules"; fi
if [ -n "$left" ]; then die "still present after down:$left"; fi
log "cluster down in $(( $(date +%s) - T0 ))s; nothing of it is running"
