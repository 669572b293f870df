#!/usr/bin/env bash
# Build the cluster's images without a registry or Docker daemon, as OCI archives, and import them into
# containerd's k8s.io namespace. Every layer and image is keyed by a hash of its inputs and rebuilt only
# when they change; an image already imported with the same manifest digest is not imported again.
#
#   images.sh            build (cached) + import into the running nh containerd (if its socket is up)
#   images.sh --build    build archives only
#   images.sh --list     print image names
#   images.sh --check    exit 0 when every image's archive is built (inputs not re-hashed)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

MODE=${1:-all}
RECIPE=4                                  # bump to force a rebuild of everything
LAYERS="$NH_IMAGE_CACHE/layers"
ARCH="$NH_IMAGE_CACHE/archives"
ROOTFS_CACHE="$NH_VAR_CACHE/rootfs"
: "${NH_DEBIAN_SUITE:=bookworm}"
: "${NH_DEBIAN_MIRROR:=http://deb.debian.org/debian}"
: "${NH_DLV_VERSION:=v1.27.2}"
BOOKING="$REPO/examples/booking"
export GOTOOLCHAIN=local   # GOGC and huge pages: nh_go_compiles (lib.sh) before each compile
command -v go >/dev/null || export PATH="/usr/local/go/bin:$PATH"

IMAGES="localhost/pause:3.10 localhost/booking-web:1.0 localhost/booking-api:1.0 localhost/booking-inventory:1.0 localhost/nh-dev-min:1 localhost/nh-dev-node:20 localhost/nh-dev-go:1.26"
if [ "$MODE" = --list ]; then printf '%s\n' $IMAGES; exit 0; fi
if [ "$MODE" = --check ]; then
  for name in $IMAGES; do [ -s "$ARCH/$(echo "$name" | tr '/:' '__').tar.digest" ] || exit 1; done
  exit 0
fi

mkdir -p "$LAYERS" "$ARCH" "$ROOTFS_CACHE"
sha() { sha256sum | cut -d' ' -f1; }
# hash of a directory's regular files (names + content), for keys
dirhash() { (cd "$1" && find . -type f ! -path './node_modules/*' ! -name '*.test.*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha; }
filehash() { sha256sum "$1" | cut -d' ' -f1; }
# cheap key for big host files (node, shared libs): path, size, mtime, inode -- a package upgrade changes them
statkey() { stat -L -c '%n %s %Y %i' "$@" | sha; }
OCI_RECIPE=$(cat "$HERE/images.sh" | sha | cut -c1-12)   # image assembly code itself is an input

# layer NAME KEY FN : builds (once per KEY) a layer tar from a rootfs that FN fills in "$1".
# Sets LAYER_FILE / LAYER_DIGEST.
layer() {
  local name=$1 key fn=$3 out
  key=$(printf '%s|%s|%s' "$RECIPE" "$name" "$2" | sha | cut -c1-16)
  out="$LAYERS/$name-$key.tar"
  if [ ! -s "$out" ] || [ ! -s "$out.sha256" ]; then
    log "  building layer $name ($key)"
    local d; d=$(mktemp -d "$LAYERS/.tmp-$name-XXXX")
    mkdir -p "$d/rootfs"
    "$fn" "$d/rootfs"
    # reproducible: GNU format (no pax atime/ctime records), sorted, owner 0, mtime 0
    tar --format=gnu --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
      -C "$d/rootfs" -cf "$d/layer.tar" .
    sha256sum "$d/layer.tar" | cut -d' ' -f1 > "$d/layer.sha256"
    mv "$d/layer.tar" "$out"; mv "$d/layer.sha256" "$out.sha256"
    rm -rf "$d"
    # drop older versions of this layer
    find "$LAYERS" -maxdepth 1 -name "$name-*.tar*" ! -name "$name-$key.tar*" -delete
  fi
  LAYER_FILE=$out; LAYER_DIGEST=$(cat "$out.sha256")
}

# image NAME CONFIG_JSON_FRAGMENT LAYERFILE... : writes an OCI archive (cached by the layer digests + config)
# CONFIG_JSON_FRAGMENT is the inside of the "config" object, e.g. "Entrypoint":["/pause"]
image() {
  local name=$1 cfg=$2; shift 2
  local safe key out lf diffs="" layers_json="" w
  safe=$(echo "$name" | tr '/:' '__')
  key=$( { echo "$OCI_RECIPE $name $cfg"; for lf in "$@"; do cat "$lf.sha256"; done; } | sha | cut -c1-16)
  out="$ARCH/$safe.tar"
  if [ -s "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
    log "  $name: cached"; return 0
  fi
  log "  $name: assembling archive"
  w=$(mktemp -d "$ARCH/.tmp-XXXX"); mkdir -p "$w/blobs/sha256"
  for lf in "$@"; do
    local dg sz; dg=$(cat "$lf.sha256"); sz=$(stat -c %s "$lf")
    ln "$lf" "$w/blobs/sha256/$dg" 2>/dev/null || cp "$lf" "$w/blobs/sha256/$dg"
    diffs="$diffs${diffs:+,}\"sha256:$dg\""
    layers_json="$layers_json${layers_json:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$dg\",\"size\":$sz}"
  done
  printf '{"architecture":"amd64","os":"linux","config":{%s},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
    "$cfg" "$diffs" > "$w/config.json"
  local cdig csz mdig msz
  cdig=$(filehash "$w/config.json"); csz=$(stat -c %s "$w/config.json"); mv "$w/config.json" "$w/blobs/sha256/$cdig"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
    "$cdig" "$csz" "$layers_json" > "$w/manifest.json"
  mdig=$(filehash "$w/manifest.json"); msz=$(stat -c %s "$w/manifest.json"); mv "$w/manifest.json" "$w/blobs/sha256/$mdig"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$mdig" "$msz" "$name" "${name##*:}" > "$w/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$w/oci-layout"
  tar --owner=0 --group=0 --numeric-owner -C "$w" -cf "$out.tmp" oci-layout index.json blobs
  rm -rf "$w"
  mv "$out.tmp" "$out"; echo "sha256:$mdig" > "$out.digest"; echo "$key" > "$out.key"
}

ENV_PATH='"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"'

# ---------------------------------------------------------------- layer contents
fill_pause() {
  mkdir -p "$1"
  gcc -Os -Wall -static -o "$1/pause" "$HERE/images/pause.c"
  strip "$1/pause"
}

# busybox-static: sh, tar and the usual applets; plus minimal /etc files and /tmp
BUSYBOX=/bin/busybox
fill_min() {
  local r=$1 a
  [ -x "$BUSYBOX" ] && "$BUSYBOX" --list >/dev/null 2>&1 || die "busybox-static is missing (apt-get install busybox-static)"
  mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/root" "$r/usr/bin" "$r/var/tmp"
  chmod 1777 "$r/tmp" "$r/var/tmp"
  cp "$BUSYBOX" "$r/bin/busybox"
  for a in $("$BUSYBOX" --list); do [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
}

# the host's node binary and the shared libraries it needs (ldd), for the production Node.js images
NODE_BIN=$(readlink -f "$(command -v node)")
fill_node_runtime() {
  local r=$1 lib
  mkdir -p "$r/usr/bin"
  cp "$NODE_BIN" "$r/usr/bin/node"
  for lib in $(ldd "$NODE_BIN" | grep -o '/[^ ]*' | sort -u); do
    mkdir -p "$r$(dirname "$lib")"; cp -L "$lib" "$r$lib"
  done
}

fill_app_web() { mkdir -p "$1/app"; cp "$BOOKING/web/server.js" "$BOOKING/web/package.json" "$1/app/"; }
fill_app_api() { mkdir -p "$1/app"; cp "$BOOKING/api/server.js" "$BOOKING/api/package.json" "$1/app/"; }
fill_app_inventory() {
  mkdir -p "$1/app"
  nh_go_compiles
  # build.sh's flags (no DWARF: the link strips it anyway), so on a first run both share the standard library's
  # compiled packages instead of compiling it twice
  (cd "$BOOKING/inventory" && CGO_ENABLED=0 go build -trimpath -gcflags=all=-dwarf=false -ldflags "-s -w" -o "$1/app/inventory" .)
}

# Debian rootfs via debootstrap (minbase), cached; docs/man/locales/apt lists stripped
debian_rootfs() {
  local dir="$ROOTFS_CACHE/debian-$NH_DEBIAN_SUITE-minbase"
  if [ ! -f "$dir/.nh-complete" ]; then
    command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"
    log "  debootstrap $NH_DEBIAN_SUITE (minbase) into $dir (~1 min)"
    rm -rf "$dir"
    retry 3 10 debootstrap --variant=minbase --include=procps,ca-certificates "$NH_DEBIAN_SUITE" "$dir" "$NH_DEBIAN_MIRROR" \
      > "$ROOTFS_CACHE/debootstrap.log" 2>&1 || { tail -20 "$ROOTFS_CACHE/debootstrap.log" >&2; rm -rf "$dir"; die "debootstrap failed (log: $ROOTFS_CACHE/debootstrap.log)"; }
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/usr/share/doc/* \
      "$dir"/usr/share/man/* "$dir"/usr/share/locale/* "$dir"/usr/share/info/* "$dir"/var/log/*.log
    find "$dir/dev" -mindepth 1 -delete
    date -u +%FT%TZ > "$dir/.nh-complete"
  fi
  DEBIAN_DIR=$dir
}
fill_debian() { cp -a "$DEBIAN_DIR/." "$1/"; rm -f "$1/.nh-complete"; }

fill_node_dev() {
  local r=$1
  mkdir -p "$r/usr/bin" "$r/usr/lib/node_modules"
  cp "$NODE_BIN" "$r/usr/bin/node"
  cp -a /usr/lib/node_modules/npm "$r/usr/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/bin/npx"
}

GOROOT_HOST=$(go env GOROOT)
DLV_CACHE="$NH_VAR_CACHE/dlv-$NH_DLV_VERSION"
build_dlv() {
  [ -x "$DLV_CACHE/dlv" ] && return 0
  log "  building dlv $NH_DLV_VERSION (go install)"
  nh_go_compiles
  mkdir -p "$DLV_CACHE"
  # like build.sh: no DWARF compiled for dlv itself (CPU on a cold first run); it reads the debuggee's, not its own
  if ! GOBIN="$DLV_CACHE" CGO_ENABLED=0 retry 3 10 go install -trimpath -gcflags=all=-dwarf=false -ldflags "-s -w" \
      "github.com/go-delve/delve/cmd/dlv@$NH_DLV_VERSION" >&2; then
    log "  WARNING: dlv $NH_DLV_VERSION could not be built; nh-dev-go will have no dlv"
    return 0
  fi
}
fill_go_dev() {
  local r=$1
  nh_go_compiles
  mkdir -p "$r/usr/local/bin" "$r/root/go"
  cp -a "$GOROOT_HOST" "$r/usr/local/go"
  rm -rf "$r/usr/local/go/test" "$r/usr/local/go/api"
  [ -x "$DLV_CACHE/dlv" ] && cp "$DLV_CACHE/dlv" "$r/usr/local/bin/dlv"
  # A build cache (Go's default place for HOME=/root) holding the standard library packages booking-inventory
  # uses, as a team's dev image would carry one: a dev pod's first `go run .` then compiles the service alone,
  # ≈ 2 s instead of ≈ 60 s at the example's 1 CPU. Built with the image's Env and nothing of the host's (GOENV),
  # so the container's builds find these entries.
  (cd "$BOOKING/inventory" && env -i PATH="$GOROOT_HOST/bin:/usr/bin:/bin" HOME=/root GOENV=off GOTOOLCHAIN=local ${GOGC:+GOGC=$GOGC} \
    GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=0 GOCACHE="$r/root/.cache/go-build" go build -o /dev/null .)
}

# ---------------------------------------------------------------- build
build_all() {
  local t0; t0=$(date +%s)
  log "building images (cache: $NH_IMAGE_CACHE)"
  command -v gcc >/dev/null || die "gcc missing (needed for the pause binary)"

  layer pause "$(filehash "$HERE/images/pause.c") $(gcc -dumpfullversion)" fill_pause; local L_PAUSE=$LAYER_FILE
  image localhost/pause:3.10 '"Entrypoint":["/pause"],"WorkingDir":"/"' "$L_PAUSE"

  layer min "$(filehash "$BUSYBOX")" fill_min; local L_MIN=$LAYER_FILE
  image localhost/nh-dev-min:1 "\"Env\":[$ENV_PATH],\"Cmd\":[\"/bin/sh\"],\"WorkingDir\":\"/\"" "$L_MIN"

  layer node-runtime "$(statkey "$NODE_BIN" $(ldd "$NODE_BIN" | grep -o '/[^ ]*' | sort -u))" fill_node_runtime
  local L_NODE=$LAYER_FILE
  layer app-web "$(dirhash "$BOOKING/web")" fill_app_web; local L_WEB=$LAYER_FILE
  layer app-api "$(dirhash "$BOOKING/api")" fill_app_api; local L_API=$LAYER_FILE
  local ncfg="\"Env\":[$ENV_PATH,\"NODE_ENV=production\",\"PORT=8080\"],\"ExposedPorts\":{\"8080/tcp\":{}},\"WorkingDir\":\"/app\",\"Entrypoint\":[\"/usr/bin/node\"]"
  image localhost/booking-web:1.0 "$ncfg,\"Cmd\":[\"/app/server.js\"]" "$L_MIN" "$L_NODE" "$L_WEB"
  image localhost/booking-api:1.0 "$ncfg,\"Cmd\":[\"/app/server.js\"]" "$L_MIN" "$L_NODE" "$L_API"

  layer app-inventory "$(dirhash "$BOOKING/inventory") $(go version)" fill_app_inventory; local L_INV=$LAYER_FILE
  image localhost/booking-inventory:1.0 "\"Env\":[$ENV_PATH,\"PORT=8080\"],\"ExposedPorts\":{\"8080/tcp\":{}},\"WorkingDir\":\"/app\",\"Entrypoint\":[\"/app/inventory\"]" "$L_MIN" "$L_INV"

  debian_rootfs
  layer debian "$NH_DEBIAN_SUITE $(cat "$DEBIAN_DIR/.nh-complete")" fill_debian; local L_DEB=$LAYER_FILE
  layer node-dev "$(statkey "$NODE_BIN" /usr/lib/node_modules/npm/package.json)" fill_node_dev
  local L_NODEDEV=$LAYER_FILE
  image localhost/nh-dev-node:20 "\"Env\":[$ENV_PATH,\"HOME=/root\"],\"Cmd\":[\"/bin/sh\"],\"WorkingDir\":\"/\"" "$L_DEB" "$L_NODEDEV"

  build_dlv
  layer go-dev "$(go version) $(cat "$GOROOT_HOST/VERSION" | head -1) dlv:$([ -x "$DLV_CACHE/dlv" ] && filehash "$DLV_CACHE/dlv") cache:$(dirhash "$BOOKING/inventory")" fill_go_dev
  local L_GODEV=$LAYER_FILE
  image localhost/nh-dev-go:1.26 "\"Env\":[\"PATH=/usr/local/go/bin:/root/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"HOME=/root\",\"GOTOOLCHAIN=local\",\"GOPROXY=off\",\"GOFLAGS=-mod=mod\",\"CGO_ENABLED=0\"],\"Cmd\":[\"/bin/sh\"],\"WorkingDir\":\"/\"" "$L_DEB" "$L_GODEV"
  log "images built in $(( $(date +%s) - t0 ))s"
}

# ---------------------------------------------------------------- import
import_all() {
  [ -S "$NH_CTR_SOCK" ] || { log "containerd socket $NH_CTR_SOCK not up: skipping import"; return 0; }
  local ctr="ctr -a $NH_CTR_SOCK -n k8s.io" name safe want have t0
  t0=$(date +%s)
  local present; present=$($ctr images ls 2>/dev/null | awk 'NR>1 {print $1" "$3}')
  for name in $IMAGES; do
    safe=$(echo "$name" | tr '/:' '__')
    want=$(cat "$ARCH/$safe.tar.digest")
    have=$(echo "$present" | awk -v n="$name" '$1==n {print $2}')
    if [ "$have" = "$want" ]; then continue; fi
    log "  importing $name ($(du -h "$ARCH/$safe.tar" | cut -f1))"
    $ctr images import "$ARCH/$safe.tar" >/dev/null || die "import of $name failed"
  done
  log "images present in containerd (k8s.io) after $(( $(date +%s) - t0 ))s"
}

case "$MODE" in
  all) build_all; import_all ;;
  --build) build_all ;;
  --import) import_all ;;
  *) die "usage: images.sh [--build|--import|--list]" ;;
esac
