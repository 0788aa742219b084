# shellcheck shell=bash
# The real node's processes, cluster objects and tear-down (sourced by scripts/local-cluster after
# scripts/local-cluster-node.sh, whose names and configs these functions use).

rn_start_containerd() {
  start_component "containerd$RN_SFX" "${IN_NODE[@]}" containerd --config "$RN_DIR/containerd/config.toml"
  wait_until "containerd$RN_SFX" "its socket" ctr --address "$RN_SOCK" version
}

rn_start_kube_proxy() {
  cat >"$RN_DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $STATE/kube-proxy.kubeconfig}
hostnameOverride: $RN_NODE
mode: iptables
bindAddress: $RN_NODE_IP
nodePortAddresses: [$RN_NODE_IP/32]
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
clusterCIDR: $RN_CLUSTER_POD_CIDR
# Leave the machine-wide conntrack table size alone.
conntrack: {maxPerCore: 0, min: 0}
EOF
  start_component "kube-proxy$RN_SFX" "${IN_NODE[@]}" "$BIN/kube-proxy" --config="$RN_DIR/kube-proxy.yaml" --v=1
}

rn_start_kube_router() {
  # NetworkPolicy only: no routing, no service proxy, no CNI of its own. Security flaws are
  # reported for v2.1.0 (the only version served): it runs only inside this test cluster.
  start_component "kube-router$RN_SFX" "${IN_NODE[@]}" "$BIN/kube-router" \
    --kubeconfig="$STATE/kube-router.kubeconfig" --hostname-override="$RN_NODE" \
    --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
    --service-cluster-ip-range="$RN_SERVICE_CIDR" --health-port=20244 --metrics-port=0 --v=1
}

# Cluster objects the real nodes need: RBAC of kube-router, CoreDNS, Traefik.
rn_objects() {
  create /apis/rbac.authorization.k8s.io/v1/clusterroles <<'EOF'
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"odoo-saas:kube-router"},
 "rules":[{"apiGroups":[""],"resources":["namespaces","pods","services","nodes","endpoints"],"verbs":["get","list","watch"]},
          {"apiGroups":["networking.k8s.io"],"resources":["networkpolicies"],"verbs":["get","list","watch"]},
          {"apiGroups":["discovery.k8s.io"],"resources":["endpointslices"],"verbs":["get","list","watch"]}]}
EOF
  create /apis/rbac.authorization.k8s.io/v1/clusterrolebindings <<'EOF'
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"odoo-saas:kube-router"},
 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"odoo-saas:kube-router"},
 "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"odoo-saas:kube-router"}]}
EOF
  rn_coredns
  rn_traefik
}

rn_pvs() {   # the local PVs of the selected node, in real folders of its own
  local j dir
  for ((j = 1; j <= REAL_PVS; j++)); do
    dir="$RN_DIR/pv/$(printf '%03d' "$j")"
    mkdir -p "$dir"
    printf '{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"local-pv-%s-%03d","labels":{"type":"real","local-pool/node":"%s"}},"spec":{"capacity":{"storage":"%s"},"accessModes":["ReadWriteOnce"],"persistentVolumeReclaimPolicy":"Retain","storageClassName":"local-pool","volumeMode":"Filesystem","local":{"path":"%s"},"nodeAffinity":{"required":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"kubernetes.io/hostname","operator":"In","values":["%s"]}]}]}}}}\n' \
      "$RN_NODE" "$j" "$RN_NODE" "$PV_SIZE" "$dir" "$RN_NODE" | create /api/v1/persistentvolumes
  done
}

rn_traefik() {
  local ref
  ref="$(sed -n 's/^LOCAL_CLUSTER_IMAGE_TRAEFIK=//p' "$STATE/images.env")"
  create /api/v1/namespaces/traefik/serviceaccounts <<'EOF'
{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"traefik","namespace":"traefik"}}
EOF
  create /apis/rbac.authorization.k8s.io/v1/clusterroles <<'EOF'
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"odoo-saas:traefik"},
 "rules":[{"apiGroups":[""],"resources":["services","endpoints","secrets","nodes"],"verbs":["get","list","watch"]},
          {"apiGroups":["discovery.k8s.io"],"resources":["endpointslices"],"verbs":["get","list","watch"]},
          {"apiGroups":["networking.k8s.io"],"resources":["ingresses","ingressclasses"],"verbs":["get","list","watch"]},
          {"apiGroups":["networking.k8s.io"],"resources":["ingresses/status"],"verbs":["update"]}]}
EOF
  create /apis/rbac.authorization.k8s.io/v1/clusterrolebindings <<'EOF'
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"odoo-saas:traefik"},
 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"odoo-saas:traefik"},
 "subjects":[{"kind":"ServiceAccount","name":"traefik","namespace":"traefik"}]}
EOF
  create /api/v1/namespaces/traefik/services <<EOF
{"apiVersion":"v1","kind":"Service","metadata":{"name":"traefik","namespace":"traefik"},
 "spec":{"clusterIP":"$RN_INGRESS_IP","selector":{"app.kubernetes.io/name":"traefik"},"ports":[{"name":"web","port":80,"targetPort":8000,"protocol":"TCP"}]}}
EOF
  # No version check and no usage report: Traefik would otherwise call out to the internet.
  jq -n --arg image "$ref" '{apiVersion:"apps/v1",kind:"Deployment",
    metadata:{name:"traefik",namespace:"traefik",labels:{"app.kubernetes.io/name":"traefik"}},
    spec:{replicas:1,selector:{matchLabels:{"app.kubernetes.io/name":"traefik"}},
      template:{metadata:{labels:{"app.kubernetes.io/name":"traefik"}},
        spec:{serviceAccountName:"traefik",
          securityContext:{runAsNonRoot:true,runAsUser:65532,runAsGroup:65532,seccompProfile:{type:"RuntimeDefault"}},
          containers:[{name:"traefik",image:$image,
            args:["--global.checknewversion=false","--global.sendanonymoususage=false",
              "--entryPoints.web.address=:8000","--entryPoints.traefik.address=:8080","--ping=true",
              "--providers.kubernetesingress=true","--providers.kubernetesingress.ingressclass=traefik","--log.level=INFO"],
            ports:[{name:"web",containerPort:8000,protocol:"TCP"}],
            readinessProbe:{httpGet:{path:"/ping",port:8080},periodSeconds:2},
            resources:{requests:{cpu:"50m",memory:"64Mi"},limits:{memory:"256Mi"}},
            securityContext:{allowPrivilegeEscalation:false,readOnlyRootFilesystem:true,capabilities:{drop:["ALL"]}},
            volumeMounts:[{name:"tmp",mountPath:"/tmp"}]}],
          volumes:[{name:"tmp",emptyDir:{}}]}}}}' \
    | create /apis/apps/v1/namespaces/traefik/deployments
}

rn_coredns() {
  local ref
  ref="$(sed -n 's/^LOCAL_CLUSTER_IMAGE_COREDNS=//p' "$STATE/images.env")"
  create /api/v1/namespaces/kube-system/serviceaccounts <<'EOF'
{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"coredns","namespace":"kube-system"}}
EOF
  create /apis/rbac.authorization.k8s.io/v1/clusterroles <<'EOF'
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"system:coredns"},
 "rules":[{"apiGroups":[""],"resources":["endpoints","services","pods","namespaces"],"verbs":["list","watch"]},
          {"apiGroups":["discovery.k8s.io"],"resources":["endpointslices"],"verbs":["list","watch"]}]}
EOF
  create /apis/rbac.authorization.k8s.io/v1/clusterrolebindings <<'EOF'
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"system:coredns"},
 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"system:coredns"},
 "subjects":[{"kind":"ServiceAccount","name":"coredns","namespace":"kube-system"}]}
EOF
  # Cluster names only: no `forward`, so no query ever leaves for the machine's resolver.
  jq -n --arg corefile '.:53 {
    errors
    health :8080
    ready :8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
}
' '{apiVersion:"v1",kind:"ConfigMap",metadata:{name:"coredns",namespace:"kube-system"},data:{Corefile:$corefile}}' \
    | create /api/v1/namespaces/kube-system/configmaps
  create /api/v1/namespaces/kube-system/services <<EOF
{"apiVersion":"v1","kind":"Service","metadata":{"name":"kube-dns","namespace":"kube-system","labels":{"k8s-app":"kube-dns"}},
 "spec":{"clusterIP":"$RN_DNS_IP","selector":{"k8s-app":"kube-dns"},
  "ports":[{"name":"dns","port":53,"protocol":"UDP"},{"name":"dns-tcp","port":53,"protocol":"TCP"}]}}
EOF
  # Non-root on port 53 through the pod's own (namespaced, "safe") unprivileged-port sysctl.
  jq -n --arg image "$ref" '{apiVersion:"apps/v1",kind:"Deployment",
    metadata:{name:"coredns",namespace:"kube-system",labels:{"k8s-app":"kube-dns"}},
    spec:{replicas:1,selector:{matchLabels:{"k8s-app":"kube-dns"}},
      template:{metadata:{labels:{"k8s-app":"kube-dns"}},
        spec:{serviceAccountName:"coredns",priorityClassName:"system-cluster-critical",dnsPolicy:"Default",
          securityContext:{runAsNonRoot:true,runAsUser:65532,runAsGroup:65532,seccompProfile:{type:"RuntimeDefault"},
            sysctls:[{name:"net.ipv4.ip_unprivileged_port_start",value:"53"}]},
          containers:[{name:"coredns",image:$image,args:["-conf","/etc/coredns/Corefile"],
            ports:[{name:"dns",containerPort:53,protocol:"UDP"},{name:"dns-tcp",containerPort:53,protocol:"TCP"}],
            readinessProbe:{httpGet:{path:"/ready",port:8181},periodSeconds:2},
            livenessProbe:{httpGet:{path:"/health",port:8080},periodSeconds:10},
            resources:{requests:{cpu:"50m",memory:"32Mi"},limits:{memory:"128Mi"}},
            securityContext:{allowPrivilegeEscalation:false,readOnlyRootFilesystem:true,capabilities:{drop:["ALL"]}},
            volumeMounts:[{name:"config",mountPath:"/etc/coredns",readOnly:true}]}],
          volumes:[{name:"config",configMap:{name:"coredns"}}]}}}}' \
    | create /apis/apps/v1/namespaces/kube-system/deployments
}

# The machine reaches the ingress only through this: root 127.0.0.1:INGRESS_PORT, then from the
# node's namespace to the Traefik Service (kube-proxy's rules there pick the pod).
rn_start_ingress_forwarder() {
  start_component ingress-forwarder python3 "$REPO/scripts/netns-forward.py" "$INGRESS_PORT" "/run/netns/$NODE_NS" \
    "$RN_INGRESS_IP:80" "$STATE/run/ingress-forwarder"
}

rn_node_ready() {
  api GET "/api/v1/nodes/$RN_NODE" | jq -e 'any(.status.conditions[]?; .type == "Ready" and .status == "True")'
}

rn_dns_ready() {
  api GET /apis/apps/v1/namespaces/kube-system/deployments/coredns | jq -e '(.status.readyReplicas // 0) >= 1'
}

rn_ingress_ready() {
  api GET /apis/apps/v1/namespaces/traefik/deployments/traefik | jq -e '(.status.readyReplicas // 0) >= 1'
}

# --- down: everything the node made, by what it recorded -------------------------------------
rn_kill_pods() {   # every process in this node's cgroup subtree (pods), by PID
  local h pids i
  for ((i = 0; i < 50; i++)); do
    pids="$(cat /sys/fs/cgroup/*/"$RN_CGROUP"/**/cgroup.procs /sys/fs/cgroup/*/"$RN_CGROUP"/cgroup.procs 2>/dev/null \
      | sort -u | tr '\n' ' ')"
    [[ -n "${pids// /}" ]] || break
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.1
  done
  for h in /sys/fs/cgroup/*/"$RN_CGROUP"; do
    [[ -d "$h" ]] && find "$h" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  return 0
}

rn_kill_shims() {   # containerd's shims of this node name its socket on their command line
  local p
  for p in /proc/[0-9]*; do
    { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$RN_SOCK" || continue
    kill -KILL "${p#/proc/}" 2>/dev/null || true
  done
}

rn_unmount() {   # every mount below the state dir, deepest first
  local m
  awk -v s="$STATE/" '$5 == substr(s, 1, length(s) - 1) || index($5, s) == 1 { print $5 }' /proc/self/mountinfo \
    | awk '{ print length($0) " " $0 }' | sort -rn | cut -d' ' -f2- | while IFS= read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
    done
}

# The node's side first (its processes, then its pods), so the control plane stops promptly
# (no client of it is left holding a watch). Sandbox ids are read while containerd still runs:
# they name the files containerd and libcni leave at fixed places when a shim is killed.
rn_down_node() {
  rn_names
  local i n
  for ((n = 1; n <= REAL_NODES; n++)); do
    rn_select "$n"
    if [[ -S "$RN_SOCK" ]]; then
      ctr --address "$RN_SOCK" -n k8s.io containers ls -q >>"$RN_DIR/container-ids" 2>/dev/null || true
    fi
  done
  for ((i = ${#RN_COMPONENTS[@]} - 1; i >= 0; i--)); do stop_component "${RN_COMPONENTS[$i]}"; done
  shopt -s globstar nullglob
  for ((n = 1; n <= REAL_NODES; n++)); do
    rn_select "$n"
    rn_kill_pods
    rn_kill_shims
  done
  shopt -u globstar nullglob
  rn_select 1
}

rn_down() {
  rn_down_node
  rn_unmount
  local id n
  for ((n = 1; n <= REAL_NODES; n++)); do
    rn_select "$n"
    # shellcheck disable=SC2013
    for id in $(cat "$RN_DIR/container-ids" 2>/dev/null); do
      [[ "$id" =~ ^[0-9a-f]{64}$ ]] || continue
      rm -f "/var/lib/cni/results/cni-loopback-$id-lo" \
        "/run/containerd/s/$(printf '%s' "$RN_SOCK/k8s.io/$id" | sha256sum | cut -c1-64)"
    done
    [[ -e "/run/netns/$NODE_NS" ]] && { ip netns delete "$NODE_NS" || log "could not delete network namespace $NODE_NS"; }
  done
  rn_select 1
  [[ -e "/run/netns/$CP_NS" ]] && { ip netns delete "$CP_NS" || log "could not delete network namespace $CP_NS"; }
  rm -f /var/lib/cni/results/"odoo-saas-$RN_TAG"-* 2>/dev/null || true
  # Folders containerd and libcni make at fixed places; kept while another node still uses them.
  find /run/containerd /var/lib/cni -depth -type d -empty -delete 2>/dev/null || true
  # Put back what the machine had, should anything have changed it (nothing is expected to).
  local line key want
  if [[ -f "$STATE/node/host-sysctls" ]]; then
    while IFS='=' read -r key want; do
      [[ "$(cat "/proc/sys/$key")" == "$want" ]] && continue
      log "restoring /proc/sys/$key to $want (it was changed while the cluster ran)"
      echo "$want" >"/proc/sys/$key"
    done <"$STATE/node/host-sysctls"
  fi
}
