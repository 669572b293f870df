#!/usr/bin/env bash
# Everything the local cluster needs before anything starts: Debian packages, then the binaries (build.sh)
# and the images (images.sh --build) built at the same time. Each part is cached, so a prepared machine
# takes about a second. When something must be built, it first prints how long that should take.
#   prepare.sh              install and build what is missing (up.sh runs it)
#   prepare.sh --estimate   only print that estimate, or nothing when all is built (scripts/demo.sh)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

PACKAGES="containerd runc containernetworking-plugins iptables iproute2 openssl busybox-static debootstrap gcc libc6-dev curl ca-certificates"
missing_packages() {
  local p
  for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null || printf ' %s' "$p"
  done
}

ensure_packages() {
  local missing; missing=$(missing_packages)
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
  command -v containerd >/dev/null && command -v runc >/dev/null && [ -x /usr/lib/cni/bridge ] \
    || die "containerd/runc/CNI plugins not found after install"
}

# The estimate comes from measured cold runs (lib.sh, NH_COLD_*): each missing part's time on a quiet 2-core
# machine (the images counted in full, although they now build beside the compile), scaled to this machine's
# cores (the compile runs 2 jobs at a time) and stretched by the load other work puts on them now, in the
# proportion a loaded cold build showed.
estimate() {
  local parts="" quiet=0 load secs
  [ -z "$(missing_packages)" ] || { parts="$parts Debian packages,"; quiet=$((quiet + NH_COLD_APT_S)); }
  bash "$HERE/build.sh" --check || { parts="$parts Kubernetes v$NH_K8S_VERSION + etcd v$NH_ETCD_VERSION + crictl,"; quiet=$((quiet + NH_COLD_BINARIES_S)); }
  bash "$HERE/images.sh" --check || { parts="$parts the images,"; quiet=$((quiet + NH_COLD_IMAGES_S)); }
  [ -n "$parts" ] || return 0
  parts=${parts%,}; case "$parts" in *,*) parts="${parts%,*} and${parts##*,}";; esac
  load=$(cut -d' ' -f1 /proc/loadavg)
  secs=$(awk -v q="$quiet" -v l="$load" -v k="$NH_COLD_LOAD_FACTOR" -v n="$(nproc)" \
    'BEGIN { c = n < 2 ? n : 2; printf "%d", q * 2 / c * (1 + k * l / n) }')
  log "first run on this machine: building$parts: about $(( (secs + 59) / 60 )) min at the load average of" \
      "$load on $(nproc) cores (estimate from measured cold runs: $NH_COLD_MEASURED)"
}

if [ "${1:-}" = --estimate ]; then estimate; exit 0; fi
nh_require_root
estimate
ensure_packages
t0=$(date +%s)
# the images (debootstrap, downloads, tar) at a lower priority beside the compile, which is the longest part
( renice -n 10 -p "$BASHPID" >/dev/null; exec bash "$HERE/images.sh" --build ) & images_job=$!
failed=""
bash "$HERE/build.sh" || failed="$failed binaries"
wait "$images_job" || failed="$failed images"
[ -z "$failed" ] || die "building the$failed failed (see the output above)"
[ $(( $(date +%s) - t0 )) -lt 5 ] || log "binaries and images ready in $(( $(date +%s) - t0 ))s"
