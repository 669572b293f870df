#!/usr/bin/env bash
# gen-pki.sh DIR NODE_NAME APISERVER_URL [SERVICE_IP [EXTRA_NODE...]] -- loopback-only PKI + kubeconfigs for the nh
# local cluster (openssl only). Idempotent: creates only what is missing, so a new component's cert can be added
# later. Each EXTRA_NODE (node.sh) gets kubelet-EXTRA_NODE.{crt,key,kubeconfig}.
set -euo pipefail
D=${1:?dir}; NODE=${2:?node}; SERVER=${3:?apiserver url}; SVC_IP=${4:-10.96.0.1}
shift 3; shift $(( $# > 0 ? 1 : 0 )); EXTRA_NODES=("$@")
mkdir -p "$D"; cd "$D"
umask 077
if [ ! -s ca.crt ] || [ ! -s ca.key ]; then
  openssl genrsa -out ca.key 2048 2>/dev/null
  openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=nh-cluster-ca" -out ca.crt
fi
if [ ! -s sa.key ] || [ ! -s sa.pub ]; then
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
fi
sign() {  # NAME CN O [SANs]
  local n=$1 cn=$2 o=$3 san=${4:-} subj
  [ -s "$n.crt" ] && [ -s "$n.key" ] && return 0
  openssl genrsa -out "$n.key" 2048 2>/dev/null
  subj="/CN=$cn"; [ -n "$o" ] && subj="/O=$o/CN=$cn"
  openssl req -new -key "$n.key" -subj "$subj" -out "$n.csr"
  { echo "basicConstraints=CA:FALSE"; echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"; [ -n "$san" ] && echo "subjectAltName=$san"; } > "$n.ext"
  openssl x509 -req -in "$n.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -sha256 \
    -extfile "$n.ext" -out "$n.crt" 2>/dev/null
  rm -f "$n.csr" "$n.ext"
}
sign apiserver kube-apiserver "" "DNS:localhost,DNS:$NODE,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$SVC_IP"
sign apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
sign admin nh-admin system:masters
sign kube-controller-manager system:kube-controller-manager ""
sign kube-scheduler system:kube-scheduler ""
sign kubelet "system:node:$NODE" system:nodes "DNS:$NODE,DNS:localhost,IP:127.0.0.1"
sign kube-proxy system:kube-proxy ""
for extra in "${EXTRA_NODES[@]}"; do sign "kubelet-$extra" "system:node:$extra" system:nodes "DNS:$extra,DNS:localhost,IP:127.0.0.1"; done
for n in admin kube-controller-manager kube-scheduler kubelet kube-proxy "${EXTRA_NODES[@]/#/kubelet-}"; do
[ -s "$n.kubeconfig" ] && continue
cat > "$n.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: nh-cluster
  cluster:
    server: $SERVER
    certificate-authority-data: $(base64 -w0 ca.crt)
users:
- name: $n
  user:
    client-certificate-data: $(base64 -w0 "$n.crt")
    client-key-data: $(base64 -w0 "$n.key")
contexts:
- name: nh-cluster
  context: {cluster: nh-cluster, user: $n, namespace: default}
current-context: nh-cluster
KC
done
chmod 644 ca.crt
