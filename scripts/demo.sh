#!/usr/bin/env bash
# `npm run demo`: the main job end to end. Brings up the local cluster (the first run builds it) and runs
# `nh up` on the booking example in its own namespace: nh installs the app from its config (k8s/), then puts
# three services in dev mode, synced, running, hot-reloading, with their ports on localhost (18080 web, 18081
# api, 18082 inventory). Ctrl-C stops the processes and forwards; `nh down` (printed at the end) restores the
# workloads, `nh down --uninstall` also removes the app.
#   NH_DEMO_NAMESPACE   namespace to use (default nh-demo)
#   NH_DEMO_CHECK=1     do not stay in the foreground: check that the three services answer, then stop
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
NS=${NH_DEMO_NAMESPACE:-nh-demo}
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# shellcheck source=cluster/lib.sh
. scripts/cluster/lib.sh   # nh_kill_tree, nh_api (the demo needs no kubectl: it is built on first use)

# On a fresh machine the cluster's preparation (compile, Debian packages, images: minutes; it says first how
# long) and nh's (npm ci, build) run at the same time, each line marked with the part it comes from.
cluster_job=""
if ! bash scripts/cluster/prepare.sh --check; then
  say "preparing the local cluster (lines marked 'cluster |') while nh is built ('nh |')"
  ( set -o pipefail; bash scripts/cluster/prepare.sh 2>&1 | sed -u 's/^/cluster | /' >&2 ) & cluster_job=$!
fi
say "building nh"
if ! ( set -o pipefail; node scripts/ensure-deps.mjs --build 2>&1 | sed -u 's/^/nh | /' >&2 ); then
  [ -z "$cluster_job" ] || { nh_kill_tree "$cluster_job"; wait "$cluster_job" 2>/dev/null || true; }
  say "building nh failed (the lines marked 'nh |' above)"; exit 1
fi
if [ -n "$cluster_job" ] && ! wait "$cluster_job"; then
  say "preparing the local cluster failed (the lines marked 'cluster |' above)"; exit 1
fi
say "starting the local cluster"
KUBECONFIG=$(bash scripts/cluster/up.sh | tail -n 1)
export KUBECONFIG

say "namespace $NS (nh up installs examples/booking into it)"
nh_api GET "/api/v1/namespaces/$NS" >/dev/null 2>&1 \
  || nh_api POST /api/v1/namespaces "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$NS\"}}" >/dev/null

NH=(bin/nh)
CONFIG=examples/booking/.nocalhost/config.yaml
if [ "${NH_DEMO_CHECK:-}" = 1 ]; then
  say "nh up (check mode: wait until the three services answer on localhost, then stop)"
  "${NH[@]}" up -f "$CONFIG" -n "$NS" & NH_PID=$!
  trap 'kill -TERM $NH_PID 2>/dev/null || true' EXIT
  for port in 18082 18081 18080; do
    for _ in $(seq 1 240); do curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.5; done
    printf '  http://127.0.0.1:%s/ → %s\n' "$port" "$(curl -fsS "http://127.0.0.1:$port/")"
  done
  kill -TERM "$NH_PID"; wait "$NH_PID" || true; trap - EXIT
  "${NH[@]}" down -f "$CONFIG" -n "$NS" >&2
  exit 0
fi

cat >&2 <<MSG

  The app answers on http://127.0.0.1:18080 (web), :18081 (api), :18082 (inventory) once the status line
  shows the services running. Try it: in another terminal
      curl localhost:18081/
      sed -i 's/booking-api/booking-api (edited)/' examples/booking/api/server.js
      curl localhost:18081/          # the new body, about a second later
  Ctrl-C stops nh; \`bin/nh down -f $CONFIG -n $NS\` restores the workloads.

MSG
exec "${NH[@]}" up -f "$CONFIG" -n "$NS"
