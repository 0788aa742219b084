#!/usr/bin/env bash
# Builds the project's Go tools from Go modules, at the versions pinned in
# tools/versions.env, using one wrapper module per tool under tools/<tool>/
# (go.mod + go.sum committed, so the module graph is reproducible).
#
#   scripts/build-tools.sh [--force] [tool ...]
#       tools: pulumi kubernetes etcd kwok pulumi-kubernetes pulumi-random pulumi-language-nodejs actionlint (the default set)
#       and, for the local cluster's real node only (LOCAL_CLUSTER_REAL_NODES=1):
#       kube-node (kubelet, kube-proxy, kubectl) kube-router coredns traefik, or `real-node` for all four
#
# Binaries live in a per-user cache outside the clone,
#   ${XDG_CACHE_HOME:-$HOME/.cache}/odoo-saas-tools/<tool>-<version>/<binary>
# and are symlinked into <repo>/.tools/bin (data files into .tools/share). A tool whose binaries are already
# in the cache at its pinned version is not rebuilt ("cached"); --force rebuilds.
# Any failure stops the script with a non-zero exit and names module@version.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../tools/versions.env
source "$REPO/tools/versions.env"

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/odoo-saas-tools"
BIN_DIR="$REPO/.tools/bin"
SHARE_DIR="$REPO/.tools/share"
PLUGIN_DIR="$REPO/.tools/plugins"
LANGUAGE_DIR="$REPO/.tools/language"
ALL_TOOLS=(pulumi kubernetes etcd kwok pulumi-kubernetes pulumi-random pulumi-language-nodejs actionlint)
# Built only when named: a KWOK-only cluster does not need them.
REAL_NODE_TOOLS=(kube-node kube-router coredns traefik)

log() { printf 'build-tools: %s\n' "$*"; }
die() { printf 'build-tools: ERROR: %s\n' "$*" >&2; exit 1; }

FORCE=0
TOOLS=()
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    pulumi|kubernetes|etcd|kwok|pulumi-kubernetes|pulumi-random|pulumi-language-nodejs|actionlint|kube-node|kube-router|coredns|traefik) TOOLS+=("$arg") ;;
    real-node) TOOLS+=("${REAL_NODE_TOOLS[@]}") ;;
    *) die "unknown argument '$arg' (tools: ${ALL_TOOLS[*]} ${REAL_NODE_TOOLS[*]} real-node; option: --force)" ;;
  esac
done
[[ ${#TOOLS[@]} -gt 0 ]] || TOOLS=("${ALL_TOOLS[@]}")

# --- prerequisites -----------------------------------------------------------
# Commands that scripts/local-cluster needs besides the built binaries.
ensure_system_packages() {
  local -A pkg_of=([curl]=curl [openssl]=openssl [python3]=python3 [jq]=jq [setsid]=util-linux [base64]=coreutils)
  local missing=() cmd
  for cmd in "${!pkg_of[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${pkg_of[$cmd]}")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "installing with apt: ${missing[*]}"
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "missing packages ${missing[*]} and not root (no sudo)"
    sudo=(sudo)
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing packages ${missing[*]} and no apt-get"
  "${sudo[@]}" apt-get update -q || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" \
    || die "apt-get install ${missing[*]} failed"
}

ensure_system_packages
command -v go >/dev/null 2>&1 || die "no 'go' on PATH: Go >= 1.26.6 is needed (the wrappers' go.mod say so)"

# Use the installed Go (no toolchain download); the go.mod 'go' lines make an
# older Go fail with a clear message. Module and build caches stay in Go's
# standard places. Builds are static (no cgo) and use go.sum as committed.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export CGO_ENABLED=0
export GOFLAGS="-mod=readonly -buildvcs=false -trimpath"

mkdir -p "$CACHE_ROOT" "$BIN_DIR" "$SHARE_DIR" "$PLUGIN_DIR" "$LANGUAGE_DIR"

# Files that a tool's check adds next to its binaries.
declare -A EXTRA_FILES=([pulumi]=pulumi-resource-pulumi-nodejs [kwok]=kwok-stages.yaml)

TMP_DIRS=()
cleanup() { local d; for d in "${TMP_DIRS[@]+"${TMP_DIRS[@]}"}"; do rm -rf "$d"; done; }
trap cleanup EXIT

# A tool whose wrapper module is another tool's (kube-node builds from tools/kubernetes, in
# its own cache folder, so adding it does not invalidate the cached control-plane binaries).
declare -A WRAPPER_OF=([kube-node]=kubernetes)
wrapper_of() { echo "${WRAPPER_OF[$1]:-$1}"; }

# wrapper_version TOOL MODULE -> the version of MODULE in tools/<wrapper of TOOL>/go.mod
wrapper_version() {
  (cd "$REPO/tools/$(wrapper_of "$1")" && go list -m -f '{{.Version}}' "$2") \
    || die "cannot read $2 from tools/$(wrapper_of "$1")/go.mod (is go.sum complete?)"
}

# Where a tool is built: its wrapper folder, unless a prepare_src_<tool> function
# makes a writable copy with generated files (BUILD_SRC is set by build_tool).
build_src_of() {
  local tool="$1" fn="prepare_src_${1//-/_}"
  if declare -F "$fn" >/dev/null; then
    local dir
    dir="$(mktemp -d "$CACHE_ROOT/.src-$tool.XXXXXX")"
    TMP_DIRS+=("$dir")
    "$fn" "$dir" || die "preparing the sources of $tool failed"
    echo "$dir"
  else
    echo "$REPO/tools/$(wrapper_of "$tool")"
  fi
}

# build_tool TOOL VERSION MODULE LDFLAGS VERIFY_CMD BIN=PKG...
#   VERIFY_CMD is run as: VERIFY_CMD <dir-with-binaries>; must print nothing
#   and succeed, or print why the freshly built binaries are wrong.
build_tool() {
  local tool="$1" version="$2" module="$3" ldflags="$4" verify="$5"
  shift 5
  local specs=("$@") spec bin pkg f
  local dest="$CACHE_ROOT/$tool-$version" start=$SECONDS

  # MODULE is empty for the project's own plugin (its version carries a source hash).
  if [[ -n "$module" ]]; then
    local pinned
    pinned="$(wrapper_version "$tool" "$module")"
    [[ "$pinned" == "$version" ]] \
      || die "tools/versions.env pins $tool $version but tools/$(wrapper_of "$tool")/go.mod requires $module@$pinned"
  fi

  # .complete is written only after the binaries passed their check.
  local cached=1
  [[ -f "$dest/.complete" ]] || cached=0
  for spec in "${specs[@]}"; do
    [[ -x "$dest/${spec%%=*}" ]] || cached=0
  done
  for f in ${EXTRA_FILES[$tool]:-}; do
    [[ -f "$dest/$f" ]] || cached=0
  done

  if [[ $FORCE -eq 0 && $cached -eq 1 ]]; then
    log "[$tool $version] cached ($dest)"
  else
    local tmp
    tmp="$(mktemp -d "$CACHE_ROOT/.tmp-$tool-$version.XXXXXX")"
    TMP_DIRS+=("$tmp")
    chmod 0755 "$tmp"
    local src
    src="$(build_src_of "$tool")"
    for spec in "${specs[@]}"; do
      bin="${spec%%=*}" pkg="${spec#*=}"
      log "[$tool $version] building $bin from $pkg (a cold build takes minutes; progress below) ..."
      local t0=$SECONDS
      (cd "$src" && go build -v -ldflags "$ldflags" -o "$tmp/$bin" "$pkg" 2>&1 | show_progress "$tool") \
        || die "building $bin ($pkg) from $module@$version failed (wrapper tools/$tool)"
      log "[$tool $version] built $bin in $((SECONDS - t0))s"
    done
    local problem
    problem="$("$verify" "$tmp" 2>&1)" \
      || die "$module@$version: built binaries failed their check: $problem"
    [[ -z "$problem" ]] || die "$module@$version: built binaries failed their check: $problem"
    echo "$module@$version" >"$tmp/.complete"
    rm -rf "$dest"
    mv "$tmp" "$dest"
    log "[$tool $version] done in $((SECONDS - start))s"
  fi

  # Executables are linked into .tools/bin, data files into .tools/share. Resource
  # plugins go to .tools/plugins/<name>/ instead: a plugin on the engine's PATH wins over
  # every installed one, so automation/engine/plugins.ts puts each folder on PATH only when it
  # chose that build (README, "Plugins"). The project's language host goes to .tools/language/,
  # on PATH only where no other pulumi-language-nodejs is (automation/engine/language-host.ts).
  for f in "$dest"/*; do
    if [[ "$(basename "$f")" =~ ^pulumi-resource-(kubernetes|random)$ ]]; then
      mkdir -p "$PLUGIN_DIR/${BASH_REMATCH[1]}"
      ln -sfn "$f" "$PLUGIN_DIR/${BASH_REMATCH[1]}/$(basename "$f")"
    elif [[ "$(basename "$f")" == pulumi-language-nodejs ]]; then
      ln -sfn "$f" "$LANGUAGE_DIR/pulumi-language-nodejs"
    elif [[ -x "$f" ]]; then
      ln -sfn "$f" "$BIN_DIR/$(basename "$f")"
    else
      ln -sfn "$f" "$SHARE_DIR/$(basename "$f")"
    fi
  done
}

# go build -v names each package it compiles: show a count every 100 packages, and
# every other line (downloads, errors) as it is.
show_progress() {
  awk -v tool="$1" '
    /^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~+-]+)*$/ { n++; if (n % 100 == 0) { printf "build-tools: [%s] %d packages compiled\n", tool, n; fflush() } ; next }
    { print; fflush() }
    END { if (n) printf "build-tools: [%s] %d packages compiled\n", tool, n }'
}

# The Kubernetes provider module's main embeds files that its `go generate` makes and
# its module zip lacks: write them the same way (schema with the plugin version set,
# both files compacted) beside a copy of our wrapper.
prepare_src_pulumi_kubernetes() {
  local dir="$1" mod_dir
  cp "$REPO/tools/pulumi-kubernetes/"{go.mod,go.sum,main.go} "$dir/"
  # `go mod download -json` fetches the module first: `go list -m` gives no folder for a
  # module that is not in the module cache yet (a fresh machine).
  mod_dir="$(cd "$dir" && go mod download -json github.com/pulumi/pulumi-kubernetes/provider/v4 | jq -r '.Dir // empty')"
  [[ -n "$mod_dir" && -f "$mod_dir/cmd/pulumi-resource-kubernetes/schema.json" ]] \
    || { echo "cannot download github.com/pulumi/pulumi-kubernetes/provider/v4@$KUBERNETES_PROVIDER_MODULE" >&2; return 1; }
  jq -c --arg v "$KUBERNETES_PLUGIN_VERSION" '.version = $v' \
    "$mod_dir/cmd/pulumi-resource-kubernetes/schema.json" >"$dir/schema-embed.json" || return 1
  jq -c . "$mod_dir/cmd/pulumi-resource-kubernetes/terraform-mapping.json" >"$dir/terraform-mapping-embed.json"
}

# A resource plugin serves gRPC: started alone it prints its port on the first line.
# Check that, and that it reports the version it was stamped with.
verify_plugin_serves() {
  local exe="$1" want="$2" port pid
  exec 3< <(timeout 20 "$exe" 2>&1)
  read -r -t 20 port <&3 || true
  pkill -f -- "^$exe" 2>/dev/null || true
  exec 3<&-
  [[ "$port" =~ ^[0-9]+$ ]] || { echo "$exe did not print a port when started (got '$port')"; return 1; }
  grep -qaF -- "$want" "$exe" || { echo "$exe does not contain its version $want"; return 1; }
}

verify_pulumi_kubernetes() { verify_plugin_serves "$1/pulumi-resource-kubernetes" "$KUBERNETES_PLUGIN_VERSION"; }
verify_pulumi_random() { verify_plugin_serves "$1/pulumi-resource-random" "$RANDOM_PLUGIN_VERSION"; }

# The project's own random plugin: its cache key is the version plus a hash of its
# sources, so an edit rebuilds it.
random_plugin_key() {
  (cd "$REPO/tools/pulumi-random" && cat go.mod go.sum $(ls ./*.go | grep -v '_test\.go$')) | sha256sum | cut -c1-12
}

# The project's Node.js language host: keyed like the random plugin (version + source hash).
# It speaks the CLI's protocol, so its wrapper must require sdk/v3 at the CLI's version.
language_host_key() {
  (cd "$REPO/tools/pulumi-language-nodejs" && cat go.mod go.sum $(ls ./*.go | grep -v '_test\.go$')) | sha256sum | cut -c1-12
}

verify_pulumi_language_nodejs() {
  local out
  out="$("$1/pulumi-language-nodejs" --version)" || { echo "pulumi-language-nodejs --version failed: $out"; return 1; }
  [[ "$out" == "$LANGUAGE_HOST_VERSION" ]] || { echo "pulumi-language-nodejs --version printed '$out', want $LANGUAGE_HOST_VERSION"; return 1; }
  verify_plugin_serves "$1/pulumi-language-nodejs" "$LANGUAGE_HOST_VERSION"
}

# --- per-tool checks ------------------------------------------------------------
verify_pulumi() {
  local out
  out="$("$1/pulumi" version)" || { echo "pulumi version failed: $out"; return 1; }
  [[ "$out" == "$PULUMI_VERSION" ]] || { echo "pulumi version printed '$out', want $PULUMI_VERSION"; return 1; }
  # Dynamic-provider launcher shipped with the Pulumi distribution (a shell
  # script running node_modules/@pulumi/pulumi/cmd/dynamic-provider).
  local sdk_dir launcher
  sdk_dir="$(cd "$REPO/tools/pulumi" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)" \
    || { echo "cannot locate github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION in the module cache"; return 1; }
  launcher="$sdk_dir/nodejs/dist/pulumi-resource-pulumi-nodejs"
  [[ -f "$launcher" ]] || { echo "missing $launcher in github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION"; return 1; }
  cp "$launcher" "$1/pulumi-resource-pulumi-nodejs"
  chmod 0755 "$1/pulumi-resource-pulumi-nodejs"
}

verify_kubernetes() {
  local b out
  for b in kube-apiserver kube-controller-manager kube-scheduler; do
    out="$("$1/$b" --version 2>&1)" || { echo "$b --version failed: $out"; return 1; }
    [[ "$out" == "Kubernetes $KUBERNETES_VERSION" ]] || { echo "$b --version printed '$out', want 'Kubernetes $KUBERNETES_VERSION'"; return 1; }
  done
}

verify_etcd() {
  local out
  out="$("$1/etcd" --version 2>&1)" || { echo "etcd --version failed: $out"; return 1; }
  grep -qx "etcd Version: ${ETCD_VERSION#v}" <<<"$out" || { echo "etcd --version printed '$out', want ${ETCD_VERSION#v}"; return 1; }
}

verify_kwok() {
  local out
  out="$("$1/kwok" --version 2>&1)" || { echo "kwok --version failed: $out"; return 1; }
  grep -q "${KWOK_VERSION#v}" <<<"$out" || { echo "kwok --version printed '$out', want ${KWOK_VERSION#v}"; return 1; }
  # The kwok binary has no built-in stages (kwokctl writes them into its
  # config): ship the default "fast" node (with lease heartbeat) and pod stages
  # of the same kwok version as <cache>/kwok-stages.yaml -> .tools/share/.
  local mod_dir stage first=1
  mod_dir="$(cd "$REPO/tools/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)" \
    || { echo "cannot locate sigs.k8s.io/kwok@$KWOK_VERSION in the module cache"; return 1; }
  : >"$1/kwok-stages.yaml"
  for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
               pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    [[ -f "$mod_dir/kustomize/stage/$stage.yaml" ]] \
      || { echo "missing kustomize/stage/$stage.yaml in sigs.k8s.io/kwok@$KWOK_VERSION"; return 1; }
    [[ $first -eq 1 ]] || echo "---" >>"$1/kwok-stages.yaml"
    first=0
    cat "$mod_dir/kustomize/stage/$stage.yaml" >>"$1/kwok-stages.yaml"
  done
}

# actionlint lints the pull-request workflow (.github/workflows); `-version` prints the module version.
verify_actionlint() {
  local out
  out="$("$1/actionlint" -version 2>&1)" || { echo "actionlint -version failed: $out"; return 1; }
  grep -qx "${ACTIONLINT_VERSION}" <<<"$(head -n1 <<<"$out")" || { echo "actionlint -version printed '$out', want $ACTIONLINT_VERSION"; return 1; }
}

verify_kube_node() {
  local b out
  for b in kubelet kube-proxy; do
    out="$("$1/$b" --version 2>&1)" || { echo "$b --version failed: $out"; return 1; }
    [[ "$out" == "Kubernetes $KUBERNETES_VERSION" ]] || { echo "$b --version printed '$out', want 'Kubernetes $KUBERNETES_VERSION'"; return 1; }
  done
  out="$("$1/kubectl" version --client 2>&1)" || { echo "kubectl version --client failed: $out"; return 1; }
  grep -qF "Client Version: $KUBERNETES_VERSION" <<<"$out" || { echo "kubectl version --client printed '$out', want $KUBERNETES_VERSION"; return 1; }
}

verify_kube_router() {
  local out
  out="$("$1/kube-router" --version 2>&1)" || { echo "kube-router --version failed: $out"; return 1; }
  grep -qF "$KUBE_ROUTER_VERSION" <<<"$out" || { echo "kube-router --version printed '$out', want $KUBE_ROUTER_VERSION"; return 1; }
}

verify_coredns() {
  local out
  out="$("$1/coredns" -version 2>&1)" || { echo "coredns -version failed: $out"; return 1; }
  grep -qF "CoreDNS-${COREDNS_VERSION#v}" <<<"$out" || { echo "coredns -version printed '$out', want CoreDNS-${COREDNS_VERSION#v}"; return 1; }
  # The plugins the local cluster's Corefile uses must be compiled in.
  out="$("$1/coredns" -plugins 2>&1)" || { echo "coredns -plugins failed: $out"; return 1; }
  local p
  for p in kubernetes forward errors health ready cache loop reload; do
    grep -qx "$p" <<<"$out" || { echo "coredns lacks the $p plugin"; return 1; }
  done
}

verify_traefik() {
  local out
  out="$("$1/traefik" version 2>&1)" || { echo "traefik version failed: $out"; return 1; }
  grep -qE "Version: +$TRAEFIK_VERSION" <<<"$out" || { echo "traefik version printed '$out', want $TRAEFIK_VERSION"; return 1; }
}

check_kubernetes_staging_pins() {
  # Every k8s.io staging module must be replaced by v0.<minor>.<patch> of the
  # pinned v1.<minor>.<patch>.
  local want="v0.${KUBERNETES_VERSION#v1.}" bad
  bad="$(grep -E '^\s*k8s\.io/[a-z0-9-]+ => k8s\.io/[a-z0-9-]+ v' "$REPO/tools/kubernetes/go.mod" \
         | awk -v w="$want" '$4 != w')" || true
  [[ -z "$bad" ]] || die "tools/kubernetes/go.mod: staging replaces not at $want:"$'\n'"$bad"
}

# --- main ---------------------------------------------------------------------------
TOTAL_START=$SECONDS
log "go: $(go env GOVERSION); cache: $CACHE_ROOT; links: $BIN_DIR"
for tool in "${TOOLS[@]}"; do
  case "$tool" in
    pulumi)
      build_tool pulumi "$PULUMI_VERSION" github.com/pulumi/pulumi/pkg/v3 \
        "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
        verify_pulumi \
        pulumi=github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
      ;;
    kubernetes)
      check_kubernetes_staging_pins
      minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
      pkgv=k8s.io/component-base/version
      build_tool kubernetes "$KUBERNETES_VERSION" k8s.io/kubernetes \
        "-s -w -X $pkgv.gitVersion=$KUBERNETES_VERSION -X $pkgv.gitMajor=1 -X $pkgv.gitMinor=$minor -X $pkgv.gitTreeState=clean" \
        verify_kubernetes \
        kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
        kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
        kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler
      ;;
    kube-node)
      check_kubernetes_staging_pins
      minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
      pkgv=k8s.io/component-base/version
      build_tool kube-node "$KUBERNETES_VERSION" k8s.io/kubernetes \
        "-s -w -X $pkgv.gitVersion=$KUBERNETES_VERSION -X $pkgv.gitMajor=1 -X $pkgv.gitMinor=$minor -X $pkgv.gitTreeState=clean" \
        verify_kube_node \
        kubelet=k8s.io/kubernetes/cmd/kubelet \
        kube-proxy=k8s.io/kubernetes/cmd/kube-proxy \
        kubectl=k8s.io/kubernetes/cmd/kubectl
      ;;
    kube-router)
      build_tool kube-router "$KUBE_ROUTER_VERSION" github.com/cloudnativelabs/kube-router/v2 \
        "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION" \
        verify_kube_router \
        kube-router=github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
      ;;
    coredns)
      build_tool coredns "$COREDNS_VERSION" github.com/coredns/coredns "-s -w" verify_coredns \
        coredns=github.com/coredns/coredns
      ;;
    traefik)
      build_tool traefik "$TRAEFIK_VERSION" github.com/traefik/traefik/v3 \
        "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" verify_traefik \
        traefik=github.com/traefik/traefik/v3/cmd/traefik
      ;;
    etcd)
      build_tool etcd "$ETCD_VERSION" go.etcd.io/etcd/server/v3 "-s -w" verify_etcd \
        etcd=go.etcd.io/etcd/server/v3
      ;;
    actionlint)
      build_tool actionlint "$ACTIONLINT_VERSION" github.com/rhysd/actionlint \
        "-s -w -X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION" verify_actionlint \
        actionlint=github.com/rhysd/actionlint/cmd/actionlint
      ;;
    kwok)
      build_tool kwok "$KWOK_VERSION" sigs.k8s.io/kwok "-s -w" verify_kwok \
        kwok=sigs.k8s.io/kwok/cmd/kwok
      ;;
    pulumi-kubernetes)
      build_tool pulumi-kubernetes "$KUBERNETES_PROVIDER_MODULE" github.com/pulumi/pulumi-kubernetes/provider/v4 \
        "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KUBERNETES_PLUGIN_VERSION" \
        verify_pulumi_kubernetes \
        pulumi-resource-kubernetes=.
      ;;
    pulumi-random)
      build_tool pulumi-random "$RANDOM_PLUGIN_VERSION-$(random_plugin_key)" "" \
        "-s -w -X main.Version=$RANDOM_PLUGIN_VERSION" \
        verify_pulumi_random \
        pulumi-resource-random=.
      ;;
    pulumi-language-nodejs)
      sdk_pin="$(wrapper_version pulumi-language-nodejs github.com/pulumi/pulumi/sdk/v3)"
      [[ "$sdk_pin" == "$PULUMI_VERSION" ]] \
        || die "tools/pulumi-language-nodejs/go.mod requires sdk/v3 $sdk_pin, but the CLI is $PULUMI_VERSION (tools/versions.env)"
      build_tool pulumi-language-nodejs "$LANGUAGE_HOST_VERSION-$(language_host_key)" "" \
        "-s -w -X main.Version=$LANGUAGE_HOST_VERSION" \
        verify_pulumi_language_nodejs \
        pulumi-language-nodejs=.
      ;;
  esac
done
log "all done in $((SECONDS - TOTAL_START))s: $(cd "$BIN_DIR" && ls | tr '\n' ' ')"
