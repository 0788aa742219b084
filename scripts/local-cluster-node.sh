# shellcheck shell=bash
# The local cluster's real nodes (LOCAL_CLUSTER_REAL_NODES=1 or 2), sourced by scripts/local-cluster.
#
# Layout (measured on these machines, see README "Real node"): the control plane runs in its own
# network namespace, the node in another, joined by a veth pair made inside them; nothing is
# added to the root namespace except a forwarder on 127.0.0.1:<api port> (scripts/netns-forward.py)
# so the kubeconfig stays https://127.0.0.1:<port>. Neither namespace has a default route: a
# packet for any other address has nowhere to go. In the node namespace: containerd (own root,
# state, socket), the kubelet, kube-proxy (iptables) and kube-router (NetworkPolicy only); pods
# on a bridge there. CoreDNS runs as a pod labelled k8s-app: kube-dns and forwards nowhere;
# Traefik runs as a pod in namespace traefik (IngressClass traefik), Service traefik/traefik:80.
#
# The kubelet would set three kernel-wide sysctls at start (vm.overcommit_memory=1,
# kernel.panic=10, kernel.panic_on_oops=1). It runs in its own mount namespace where those three
# files read as the values it wants, so the machine's values never change; `down` still checks.
#
# With LOCAL_CLUSTER_REAL_NODES=2 a second node, real-node-2, gets its own namespace, containerd,
# kubelet, kube-proxy and kube-router (components named <name>-2, state in <state>/node2, pod CIDR
# 10.245.2.0/24, address 10.201.0.3). The control-plane namespace then holds a bridge (10.201.0.1)
# joining one veth per node, and each node namespace routes the other node's pod CIDR via that
# node's address, so pods reach each other across nodes with their own addresses (no NAT, so the
# target node's kube-router sees the real source). One node keeps the single veth pair of before.

RN_CP_IP=10.201.0.1
RN_CLUSTER_POD_CIDR=10.245.0.0/16
RN_SERVICE_CIDR=10.96.0.0/16
RN_DNS_IP=10.96.0.10
# The Traefik Service's fixed cluster IP: the ingress forwarder targets it (in the static band).
RN_INGRESS_IP=10.96.0.80
# Stable names the dev stack's image settings use (Pulumi.dev.yaml), tagged at every import onto
# this start's build: the node's containerd is new at each `up`, so the alias is never stale
# across a restart of the cluster.
RN_DEV_ALIASES=(postgres odoo-standin backup)
RN_NODE_COMPONENTS=(containerd kubelet kube-proxy kube-router)
RN_IMAGES=(pause postgres odoo-standin coredns traefik probe backup)
RN_KERNEL_SYSCTLS=(vm/overcommit_memory:1 kernel/panic:10 kernel/panic_on_oops:1)

rn_names() {   # names derived from the state dir, so two worktrees never share one
  RN_TAG="$(printf '%s' "$STATE" | sha256sum | cut -c1-8)"
  CP_NS="osaas-cp-$RN_TAG"
  IN_CP=(nsenter "--net=/run/netns/$CP_NS")
  RN_COMPONENTS=()
  local i
  for ((i = 1; i <= REAL_NODES; i++)); do
    rn_select "$i"
    RN_COMPONENTS+=("${RN_NODE_COMPONENTS[@]/%/$RN_SFX}")
  done
  rn_select 1
}

rn_select() {   # rn_select I: the names of real node I (node 1 keeps the names of the one-node set-up)
  RN_I="$1"
  RN_NODE="real-node-$1"
  NODE_NS="osaas-n$1-$RN_TAG"
  RN_NODE_IP="10.201.0.$((1 + $1))"
  RN_POD_CIDR="10.245.$1.0/24"
  if (($1 == 1)); then
    RN_SFX="" RN_DIR="$STATE/node" RN_CGROUP="odoo-saas-$RN_TAG"
  else
    RN_SFX="-$1" RN_DIR="$STATE/node$1" RN_CGROUP="odoo-saas-$RN_TAG-n$1"
  fi
  RN_SOCK="$RN_DIR/containerd/containerd.sock"
  IN_NODE=(nsenter "--net=/run/netns/$NODE_NS")
}

rn_check() {
  local b
  for b in kubelet kube-proxy kube-router; do
    [[ -x "$BIN/$b" ]] || die "missing $BIN/$b: run scripts/prepare-real-node.sh"
  done
  for b in containerd containerd-shim-runc-v2 runc ctr ip nsenter unshare iptables ipset; do
    command -v "$b" >/dev/null 2>&1 || die "'$b' not found: run scripts/prepare-real-node.sh"
  done
  [[ -x /usr/lib/cni/bridge ]] || die "no CNI plugins in /usr/lib/cni: run scripts/prepare-real-node.sh"
  for b in "${RN_IMAGES[@]}"; do
    [[ -f "$(bash "$REPO/scripts/build-images.sh" archive "$b")" ]] \
      || die "image $b is not built: run scripts/prepare-real-node.sh (or scripts/build-images.sh $b)"
  done
}

rn_netns_up() {
  local v i j
  mkdir -p "$STATE/node"
  # What `down` checks it left as it found (ip_forward of the root namespace, the kubelet's sysctls).
  for v in net/ipv4/ip_forward "${RN_KERNEL_SYSCTLS[@]%%:*}"; do
    printf '%s=%s\n' "$v" "$(cat "/proc/sys/$v")"
  done >"$STATE/node/host-sysctls"
  ip netns add "$CP_NS"
  ip -n "$CP_NS" link set lo up
  if ((REAL_NODES > 1)); then
    ip -n "$CP_NS" link add name br0 type bridge
    ip -n "$CP_NS" addr add "$RN_CP_IP/24" dev br0
    ip -n "$CP_NS" link set br0 up
  fi
  for ((i = 1; i <= REAL_NODES; i++)); do
    rn_select "$i"
    mkdir -p "$RN_DIR"
    ip netns add "$NODE_NS"
    ip -n "$NODE_NS" link set lo up
    if ((REAL_NODES == 1)); then
      ip link add name cp0 netns "$CP_NS" type veth peer name node0 netns "$NODE_NS"
      ip -n "$CP_NS" addr add "$RN_CP_IP/24" dev cp0
      ip -n "$CP_NS" link set cp0 up
    else
      ip link add name "cp-n$i" netns "$CP_NS" type veth peer name node0 netns "$NODE_NS"
      ip -n "$CP_NS" link set "cp-n$i" master br0 up
    fi
    ip -n "$NODE_NS" addr add "$RN_NODE_IP/24" dev node0
    ip -n "$NODE_NS" link set node0 up
    # Replies from the API server to pods; Service addresses from the node's own processes
    # (kube-proxy rewrites them before they leave). No default route anywhere.
    if ((REAL_NODES == 1)); then
      ip -n "$CP_NS" route add "$RN_CLUSTER_POD_CIDR" via "$RN_NODE_IP"
    else
      ip -n "$CP_NS" route add "$RN_POD_CIDR" via "$RN_NODE_IP"
      for ((j = 1; j <= REAL_NODES; j++)); do
        ((j == i)) || ip -n "$NODE_NS" route add "10.245.$j.0/24" via "10.201.0.$((1 + j))"
      done
    fi
    ip -n "$NODE_NS" route add "$RN_SERVICE_CIDR" dev node0
    "${IN_NODE[@]}" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
  done
  rn_select 1
}

rn_pki() {
  local client="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth" i
  for ((i = 1; i <= REAL_NODES; i++)); do   # each kubelet its own identity (NodeRestriction)
    rn_select "$i"
    sign "kubelet$RN_SFX" "/O=system:nodes/CN=system:node:$RN_NODE" "$client"
    sign "kubelet-serving$RN_SFX" "/CN=$RN_NODE" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:$RN_NODE_IP,DNS:$RN_NODE"
    write_kubeconfig "$STATE/kubelet$RN_SFX.kubeconfig" "kubelet$RN_SFX" kubelet
    sed -i "s#server: https://127.0.0.1:#server: https://$RN_CP_IP:#" "$STATE/kubelet$RN_SFX.kubeconfig"
  done
  rn_select 1
  sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$client"
  sign kube-proxy "/CN=system:kube-proxy" "$client"
  sign kube-router "/CN=odoo-saas:kube-router" "$client"
  local c
  for c in kube-proxy kube-router; do
    write_kubeconfig "$STATE/$c.kubeconfig" "$c" "$c"
    sed -i "s#server: https://127.0.0.1:#server: https://$RN_CP_IP:#" "$STATE/$c.kubeconfig"
  done
  chmod 600 "$STATE/pki"/*.key
}

rn_containerd_config() {
  local d="$RN_DIR/containerd" pause_ref
  pause_ref="$(bash "$REPO/scripts/build-images.sh" refs | sed -n 's/^pause=//p')"
  mkdir -p "$d/root" "$d/state" "$d/runc" "$d/opt" "$RN_DIR/cni/net.d" "$RN_DIR/cni/ipam"
  cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$RN_SOCK"
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_ref"
  # root here lacks CAP_SYS_RESOURCE: runc could not lower oom_score_adj below its own.
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$d/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$RN_DIR/cni/net.d"
    max_conf_num = 1
EOF
  cat >"$RN_DIR/cni/net.d/10-odoo-saas.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "odoo-saas-$RN_TAG", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$RN_POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}],
            "dataDir": "$RN_DIR/cni/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}
]}
EOF
}

rn_import_images() {
  local image archive out
  for image in "${RN_IMAGES[@]}"; do
    archive="$(bash "$REPO/scripts/build-images.sh" archive "$image")"
    out="$(ctr --address "$RN_SOCK" -n k8s.io images import "$archive" 2>&1)" \
      || fail "containerd$RN_SFX" "importing image $image ($archive) failed: $out"
  done
  bash "$REPO/scripts/build-images.sh" refs | while IFS='=' read -r image ref; do
    printf 'LOCAL_CLUSTER_IMAGE_%s=%s\n' "$(tr 'a-z-' 'A-Z_' <<<"$image")" "$ref"
  done >"$STATE/images.env"
  local alias ref
  for image in "${RN_DEV_ALIASES[@]}"; do
    ref="$(sed -n "s/^LOCAL_CLUSTER_IMAGE_$(tr 'a-z-' 'A-Z_' <<<"$image")=//p" "$STATE/images.env")"
    alias="localhost/odoo-saas/$image:dev"
    out="$(ctr --address "$RN_SOCK" -n k8s.io images tag --force "$ref" "$alias" 2>&1)" \
      || fail "containerd$RN_SFX" "tagging $ref as $alias failed: $out"
  done
}

# The cgroup subtree of this node's pods, in every v1 hierarchy (cpuset needs its cpus and mems).
rn_cgroups_up() {
  local h
  for h in /sys/fs/cgroup/*/; do
    [[ -d "$h" ]] || continue
    mkdir -p "$h$RN_CGROUP"
    if [[ -f "${h}cpuset.cpus" && -f "$h$RN_CGROUP/cpuset.cpus" ]]; then
      cat "${h}cpuset.cpus" >"$h$RN_CGROUP/cpuset.cpus"
      cat "${h}cpuset.mems" >"$h$RN_CGROUP/cpuset.mems"
    fi
  done
}

rn_kubelet_config() {
  : >"$RN_DIR/resolv.conf"   # pods with dnsPolicy Default get no resolver of the machine's
  mkdir -p "$RN_DIR/kubelet" "$RN_DIR/pod-logs" "$RN_DIR/sysctl"
  cat >"$RN_DIR/kubelet-config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $RN_NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $STATE/pki/kubelet-serving$RN_SFX.crt
tlsPrivateKeyFile: $STATE/pki/kubelet-serving$RN_SFX.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $STATE/pki/ca.crt}
# Only clients with a certificate of the cluster's own CA get here (the API server).
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupRoot: /$RN_CGROUP
clusterDNS: [$RN_DNS_IP]
clusterDomain: cluster.local
resolvConf: $RN_DIR/resolv.conf
containerRuntimeEndpoint: unix://$RN_SOCK
podLogsDir: $RN_DIR/pod-logs
failSwapOn: false
protectKernelDefaults: false
serializeImagePulls: false
rotateCertificates: false
maxPods: 110
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
EOF
  local entry name
  for entry in "${RN_KERNEL_SYSCTLS[@]}"; do
    name="${entry%%:*}"
    echo "${entry#*:}" >"$RN_DIR/sysctl/${name//\//.}"
  done
  # The kubelet's volume mounts must reach containerd in the root mount namespace: its folder is a
  # shared mount, and the kubelet's own mount namespace starts as a copy with that propagation.
  mount --bind "$RN_DIR/kubelet" "$RN_DIR/kubelet"
  mount --make-rshared "$RN_DIR/kubelet"
}

rn_start_kubelet() {
  # The three files of RN_KERNEL_SYSCTLS, each covered by its fake (paths as arguments, not text).
  # shellcheck disable=SC2016
  start_component "kubelet$RN_SFX" "${IN_NODE[@]}" unshare --mount --propagation unchanged -- sh -c '
    d="$1"; shift
    mount --bind "$d/vm.overcommit_memory" /proc/sys/vm/overcommit_memory &&
    mount --bind "$d/kernel.panic" /proc/sys/kernel/panic &&
    mount --bind "$d/kernel.panic_on_oops" /proc/sys/kernel/panic_on_oops &&
    exec "$@"' kubelet "$RN_DIR/sysctl" "$BIN/kubelet" \
    --config="$RN_DIR/kubelet-config.yaml" --kubeconfig="$STATE/kubelet$RN_SFX.kubeconfig" \
    --root-dir="$RN_DIR/kubelet" --cert-dir="$RN_DIR/kubelet/pki" \
    --hostname-override="$RN_NODE" --node-ip="$RN_NODE_IP" \
    --node-labels="type=real,odoo-saas.io/node=real" --v=1
}
