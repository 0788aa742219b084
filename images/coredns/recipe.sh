# CoreDNS for the local cluster's real node: the static binary that scripts/build-tools.sh
# built (tool coredns), alone in the image. The tag must name the pinned version.
IMAGE_TAG=v1.15.0
IMAGE_BASE=scratch
customize() {   # customize ROOT RECIPE_DIR
  local repo pinned bin
  repo="$(cd "$2/../.." && pwd)"
  pinned="$(source "$repo/tools/versions.env" && echo "$COREDNS_VERSION")"
  [[ "$pinned" == "$IMAGE_TAG" ]] || { echo "images/coredns is $IMAGE_TAG but tools/versions.env pins $pinned" >&2; return 1; }
  bin="${XDG_CACHE_HOME:-$HOME/.cache}/odoo-saas-tools/coredns-$IMAGE_TAG/coredns"
  [[ -x "$bin" ]] || { echo "missing $bin: run scripts/build-tools.sh coredns" >&2; return 1; }
  install -m 0755 "$bin" "$1/coredns"
}
