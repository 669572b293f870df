#!/usr/bin/env bash
# Everything the local cluster needs before anything starts: the binaries (build.sh), and beside them the Debian
# packages, then the images (images.sh --build). Each part is cached, so a prepared machine takes about a
# second. When something must be built, it first prints how long that should take.
#   prepare.sh           install and build what is missing (up.sh runs it)
#   prepare.sh --check   exit 0 when nothing is missing (scripts/demo.sh)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

PACKAGES="containerd runc containernetworking-plugins iptables iproute2 openssl busybox-static debootstrap gcc libc6-dev curl ca-certificates"
missing_packages() {  # [PACKAGE...], all of PACKAGES by default
  local p names=${*:-$PACKAGES}
  for p in $names; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null || printf ' %s' "$p"
  done
}

ensure_packages() {  # [PACKAGE...], all of PACKAGES by default
  local missing; missing=$(missing_packages "$@")
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
  [ $# -eq 0 ] || return 0   # only the packages named
  command -v containerd >/dev/null && command -v runc >/dev/null && [ -x /usr/lib/cni/bridge ] \
    || die "containerd/runc/CNI plugins not found after install"
}

# The estimate comes from measured cold runs (lib.sh, NH_COLD_*): each missing part's time on a quiet 2-core
# machine, scaled to this machine's cores (the compile runs 2 jobs at a time) and stretched by the load other
# work puts on them now, in the proportion a loaded cold build showed. The compile is the longest part and the
# packages and images are done beside it, so when it is missing the whole cold prepare.sh counts for all three;
# its range is the fastest and slowest cold run measured with huge pages for the compile, or without them when
# this machine's compiles will not get them (lib.sh, nh_compiles_get_huge_pages).
estimate() {
  local parts="" quiet=0 slow=0 beside=1 range load loaded
  if ! bash "$HERE/build.sh" --check; then
    parts="$parts Kubernetes v$NH_K8S_VERSION + etcd v$NH_ETCD_VERSION,"; beside=0
    if nh_compiles_get_huge_pages; then range=$NH_COLD_PREPARE_S; else range=$NH_COLD_PREPARE_NO_THP_S; fi
    read -r quiet slow <<< "$range"
  fi
  [ -z "$(missing_packages)" ] || estimate_part "Debian packages" "$NH_COLD_APT_S"
  bash "$HERE/images.sh" --check || estimate_part "the images" "$NH_COLD_IMAGES_S"
  [ -n "$parts" ] || return 0
  parts=${parts%,}; case "$parts" in *,*) parts="${parts%,*} and${parts##*,}";; esac
  load=$(cut -d' ' -f1 /proc/loadavg)
  read -r quiet slow loaded < <(awk -v q="$quiet" -v s="$slow" -v l="$load" -v k="$NH_COLD_LOAD_FACTOR" -v n="$(nproc)" \
    'BEGIN { c = n < 2 ? n : 2; q = q * 2 / c; s = s * 2 / c
      printf "%d %d %d\n", (q + 59) / 60, (s + 59) / 60, (s * (1 + k * l / n) + 59) / 60 }')
  # the load average of the last minute is a poor forecast of the next ten: the loaded figure is a bound
  if [ "$loaded" -gt "$slow" ]; then loaded="; up to $loaded min at the load average of $load"; else loaded=""; fi
  [ "$quiet" = "$slow" ] || quiet="$quiet-$slow"
  log "first run on this machine: building$parts: about $quiet min on $(nproc) quiet cores$loaded;" \
      "the compile's progress lines tell the time left (estimate from measured cold runs: $NH_COLD_MEASURED)"
}

estimate_part() {  # NAME SECONDS: a missing part in estimate's list and range (nothing to add beside the compile)
  parts="$parts $1,"; quiet=$((quiet + beside * $2)); slow=$((slow + beside * $2))
}

# the estimate says nothing when nothing is missing
if [ "${1:-}" = --check ]; then [ -z "$(estimate 2>&1)" ]; exit; fi
nh_require_root
estimate
t0=$(date +%s)
# The compile (build.sh) needs only go and the network (HTTPS: ca-certificates): it starts first, and the other
# Debian packages install beside it. The images need those (debootstrap, gcc, busybox), so they follow them, at a
# lower priority than the compile, which is the longest part.
ensure_packages ca-certificates
bash "$HERE/build.sh" & binaries_job=$!
if ! ( ensure_packages ); then
  nh_kill_tree "$binaries_job"; wait "$binaries_job" 2>/dev/null || true
  die "installing the Debian packages failed (see the output above); the compile was stopped"
fi
failed=""
( renice -n 10 -p "$BASHPID" >/dev/null; exec bash "$HERE/images.sh" --build ) || failed=" images"
wait "$binaries_job" || failed="$failed${failed:+ and the} binaries"
[ -z "$failed" ] || die "building the$failed failed (see the output above)"
[ $(( $(date +%s) - t0 )) -lt 5 ] || log "binaries and images ready in $(( $(date +%s) - t0 ))s"
