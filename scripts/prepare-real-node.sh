#!/usr/bin/env bash
# Installs and builds what the local cluster's real node needs (LOCAL_CLUSTER_REAL_NODES=1),
# idempotently; run after scripts/prepare.sh (which builds the control plane's tools):
#   - Debian packages: containerd, runc, the CNI plugins, iptables, ipset, conntrack, debootstrap;
#   - Go-built tools: kubelet, kube-proxy, kubectl (tool kube-node), kube-router, CoreDNS;
#   - the images: pause, PostgreSQL 15, the Odoo stand-in, CoreDNS (scripts/build-images.sh).
# A warm machine takes seconds; every failure stops with a message saying what failed.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

APT_PACKAGES=(containerd runc containernetworking-plugins iptables ipset conntrack debootstrap util-linux iproute2)
# shellcheck source=debian-packages.sh
source scripts/debian-packages.sh
ensure_debian_packages "${APT_PACKAGES[@]}"

step "Go-built tools of the real node"
bash scripts/build-tools.sh real-node

step "Images (built from Debian packages, cached per user)"
bash scripts/build-images.sh
echo "real node prepared."
