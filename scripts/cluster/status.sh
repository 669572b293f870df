#!/usr/bin/env bash
# Show the state of the nh local cluster. Exit 0 when every component runs and the node is Ready.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
ok=1
printf '%-26s %s\n' "binaries" "$NH_BIN $([ -f "$NH_BIN/.complete" ] && echo '(built)' || echo '(NOT BUILT: run build.sh)')"
printf '%-26s %s\n' "tools (helm v$NH_HELM_VERSION)" "$NH_TOOLS_BIN $([ -f "$NH_TOOLS_BIN/.complete" ] && echo '(built)' || echo '(NOT BUILT: run tools.sh)')"
for c in $NH_COMPONENTS; do
  if pid=$(nh_pid "$c"); then printf '%-26s running (pid %s)\n' "$c" "$pid"
  else printf '%-26s STOPPED\n' "$c"; ok=0; fi
done
shims=$(nh_shim_pids | wc -l)
printf '%-26s %s\n' "containerd shims" "$shims"
printf '%-26s %s\n' "bridge $NH_BRIDGE" "$(ip -br addr show "$NH_BRIDGE" 2>/dev/null | awk '{print $2, $3}' || echo absent)"
printf '%-26s %s\n' "kubeconfig" "$NH_KUBECONFIG"
printf '%-26s %s\n' "logs" "$NH_LOGS"
printf '%-26s %s\n' "apiserver" "https://127.0.0.1:$NH_APISERVER_PORT"
if [ "$ok" = 1 ] && [ -f "$NH_KUBECONFIG" ]; then
  ready=$(nh_node_ready_status "$NH_NODE" 2>/dev/null || echo unknown)
  printf '%-26s %s\n' "node $NH_NODE Ready" "$ready"
  [ "$ready" = True ] || ok=0
  if [ -S "$NH_CTR_SOCK" ]; then
    echo "images (containerd k8s.io namespace):"
    ctr -a "$NH_CTR_SOCK" -n k8s.io images ls -q 2>/dev/null | grep '^localhost/' | sed 's/^/  /' || true
  fi
  echo "pods:"
  nh_need_kubectl || echo "  (no kubectl: build.sh kubectl failed)"
  nh_kubectl get pods -A -o wide 2>/dev/null | sed 's/^/  /' || true
fi
for n in 2 3 4 5 6 7 8 9; do   # extra nodes (node.sh): those started, and those NH_CLUSTER_NODES asks for
  if [ -f "$NH_PIDS/kubelet-$n.pid" ] || [ "$n" -le "${NH_CLUSTER_NODES:-1}" ]; then
    printf '%-26s %s\n' "node $n" "$(bash "$HERE/node.sh" status "$n" || true)"
    bash "$HERE/node.sh" status "$n" >/dev/null || ok=0
  fi
done
if [ "$ok" = 1 ]; then echo "cluster: UP"; exit 0; else echo "cluster: DOWN (or partly down)"; exit 1; fi
