# shellcheck shell=bash
# How each component of the local cluster is started and found ready; sourced after lib.sh by up.sh (which
# starts them all, in order) and component.sh (which stops and starts one). launch_NAME starts the process
# unless it runs; await_NAME waits until it answers.
#   NH_APISERVER_EXTRA_ARGS  extra kube-apiserver flags for a test run (e.g. --min-request-timeout=5)

launch_containerd() { nh_start containerd "$(command -v containerd)" --config "$NH_CONF/containerd.toml"; }
await_containerd() { nh_wait_for containerd 30 ctr -a "$NH_CTR_SOCK" version; }

launch_etcd() {
  nh_start etcd "$NH_BIN/etcd" --name nh --data-dir "$NH_CLUSTER_ROOT/etcd" \
    --listen-client-urls "http://127.0.0.1:$NH_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$NH_ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$NH_ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$NH_ETCD_PEER_PORT" \
    --initial-cluster "nh=http://127.0.0.1:$NH_ETCD_PEER_PORT" --listen-metrics-urls "http://127.0.0.1:$NH_ETCD_METRICS_PORT" \
    --unsafe-no-fsync --quota-backend-bytes=2147483648 --log-level=warn
}
await_etcd() { nh_wait_for etcd 30 curl -fsS "http://127.0.0.1:$NH_ETCD_PORT/health"; }

# --shutdown-send-retry-after: on SIGTERM the API server answers new requests 429 (Retry-After: 1) until the
# requests in flight are done, then gives open connections 2 s. Without it, it gives them its request timeout
# (60 s): open watches kept it from exiting for the 20 s after which `nh_stop` kills it (every `cluster:down`,
# every restart, and the API server's fault in the tests: 22.9 s → 2.3 s).
launch_kube-apiserver() {
  local P=$NH_PKI extra
  read -r -a extra <<< "${NH_APISERVER_EXTRA_ARGS:-}"
  nh_start kube-apiserver "$NH_BIN/kube-apiserver" \
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
    --shutdown-send-retry-after=true --profiling=false --v=1 "${extra[@]}"
}
await_kube-apiserver() { nh_wait_for kube-apiserver 60 nh_api GET /readyz; }

# A dev cluster changes many workloads at once (nh up of a whole app): the controller-manager's defaults
# (20 API requests/s, 5 deployment syncs at a time) queue that work behind its own rate limiter.
launch_kube-controller-manager() {
  local P=$NH_PKI
  nh_start kube-controller-manager "$NH_BIN/kube-controller-manager" \
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
}
await_kube-controller-manager() { nh_wait_for kube-controller-manager 30 curl -fsSk "https://127.0.0.1:$NH_KCM_PORT/healthz"; }

launch_kube-scheduler() {
  local P=$NH_PKI
  nh_start kube-scheduler "$NH_BIN/kube-scheduler" \
    --kubeconfig="$P/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig="$P/kube-scheduler.kubeconfig" --authorization-kubeconfig="$P/kube-scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$NH_SCHED_PORT" --leader-elect=false --profiling=false --v=1
}
await_kube-scheduler() { nh_wait_for kube-scheduler 30 curl -fsSk "https://127.0.0.1:$NH_SCHED_PORT/healthz"; }

launch_kubelet() {
  nh_start kubelet "$NH_BIN/kubelet" --config="$NH_CONF/kubelet.yaml" --kubeconfig="$NH_PKI/kubelet.kubeconfig" \
    --root-dir="$NH_CLUSTER_ROOT/kubelet" --cert-dir="$NH_CLUSTER_ROOT/kubelet/pki" --v=1
}
await_kubelet() { nh_wait_for kubelet 60 curl -fsS "http://127.0.0.1:$NH_KUBELET_HEALTHZ_PORT/healthz"; }

# Service ClusterIPs: iptables mode; masquerade-all so replies between pods on the same bridge come back
# through the host without br_netfilter; NodePorts only on the bridge's own address (reachable from this
# machine and its pods, nothing else); no conntrack sysctl changes.
launch_kube-proxy() {
  local pod_gw
  pod_gw=$(echo "$NH_POD_CIDR" | awk -F'[./]' '{print $1"."$2"."$3"."$4+1}')
  nh_start kube-proxy "$NH_BIN/kube-proxy" --kubeconfig="$NH_PKI/kube-proxy.kubeconfig" --hostname-override="$NH_NODE" \
    --proxy-mode=iptables --cluster-cidr="$NH_POD_CIDR" --masquerade-all=true \
    --bind-address=127.0.0.1 --healthz-bind-address="127.0.0.1:$NH_PROXY_HEALTHZ_PORT" \
    --metrics-bind-address="127.0.0.1:$NH_PROXY_METRICS_PORT" --nodeport-addresses="$pod_gw/32" \
    --iptables-localhost-nodeports=false --conntrack-max-per-core=0 \
    --conntrack-tcp-timeout-established=0 --conntrack-tcp-timeout-close-wait=0 --v=1
}
await_kube-proxy() { nh_wait_for kube-proxy 60 curl -fsS "http://127.0.0.1:$NH_PROXY_HEALTHZ_PORT/healthz"; }

start_component() { "launch_$1" && "await_$1"; }  # NAME
