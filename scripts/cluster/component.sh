#!/usr/bin/env bash
# Faults for tests: stop and start one component of the running local cluster, or drop the packets to the
# API server's port. The cluster is shared: take `flock -x /tmp/nh-cluster.lock` around a fault and undo it
# before letting go.
#   component.sh stop NAME     stop NAME (containerd, etcd, kube-apiserver, kubelet, ...) by its pid file
#   component.sh start NAME    start it as up.sh does and wait until it answers (no-op when it runs);
#                              NH_APISERVER_EXTRA_ARGS adds kube-apiserver flags (see components.sh)
#   component.sh restart NAME  stop, then start
#   component.sh block         drop packets to and from 127.0.0.1:$NH_APISERVER_PORT (not refused: dropped)
#   component.sh unblock       remove that rule (down.sh and up.sh remove it too)
# Stopping containerd or the kubelet leaves the containers running (their shims stay), as a restart does.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=components.sh
. "$HERE/components.sh"
nh_require_root

usage() { die "usage: component.sh stop|start|restart NAME | block | unblock   (NAME: $NH_COMPONENTS)"; }
known() { case " $NH_COMPONENTS " in *" $1 "*) return 0;; esac; die "unknown component '$1' (one of: $NH_COMPONENTS)"; }

case "${1:-}" in
  stop) [ -n "${2:-}" ] || usage; known "$2"; nh_stop -t 20 "$2" ;;
  start) [ -n "${2:-}" ] || usage; known "$2"; start_component "$2"; log "$2 ready" ;;
  restart) [ -n "${2:-}" ] || usage; known "$2"; nh_stop -t 20 "$2"; start_component "$2"; log "$2 ready" ;;
  block) nh_block_apiserver; log "packets to 127.0.0.1:$NH_APISERVER_PORT are dropped (component.sh unblock)" ;;
  unblock) nh_unblock_apiserver; log "packets to 127.0.0.1:$NH_APISERVER_PORT flow again" ;;
  *) usage ;;
esac
