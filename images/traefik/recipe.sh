# Traefik for the local cluster's real node: the static binary that scripts/build-tools.sh built
# (tool traefik), alone in the image. The tag must name the pinned version.
IMAGE_TAG=v3.6.12
IMAGE_BASE=scratch
customize() {   # customize ROOT RECIPE_DIR
  local repo pinned bin
  repo="$(cd "$2/../.." && pwd)"
  pinned="$(source "$repo/tools/versions.env" && echo "$TRAEFIK_VERSION")"
  [[ "$pinned" == "$IMAGE_TAG" ]] || { echo "images/traefik is $IMAGE_TAG but tools/versions.env pins $pinned" >&2; return 1; }
  bin="${XDG_CACHE_HOME:-$HOME/.cache}/odoo-saas-tools/traefik-$IMAGE_TAG/traefik"
  [[ -x "$bin" ]] || { echo "missing $bin: run scripts/build-tools.sh traefik" >&2; return 1; }
  install -m 0755 "$bin" "$1/traefik"
  # Traefik writes nothing but may look for a config file; /tmp is an emptyDir in the pod.
  install -d -m 1777 "$1/tmp"
}
