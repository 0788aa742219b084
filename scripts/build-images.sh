#!/usr/bin/env bash
# Builds the container images of the local cluster's real node from Debian packages (no
# registry can be reached here), as one-layer OCI archives that `ctr images import` takes.
#
#   scripts/build-images.sh [--force] [image ...]    build (default: all), print nothing else
#   scripts/build-images.sh refs                     print NAME=REF lines of every image
#   scripts/build-images.sh archive IMAGE            print the path of IMAGE's built archive
#       images: pause postgres odoo-standin coredns traefik probe backup (recipes in images/<image>/recipe.sh)
#
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/odoo-saas-images/<image>-<key>/image.tar, where <key>
# is a content hash of the recipe folder images/<image>/, images/oci-pack.py, the base recipe
# below and BUILD_FORMAT (raise it when a change to this script changes what images contain).
# The image reference is localhost/odoo-saas/<image>:<tag>-<key>, so a changed recipe is a new
# reference and nothing stale is ever run.
# Debian packages are not pinned: a rebuild (--force) takes the archive's current versions.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/odoo-saas-images"
ALL_IMAGES=(pause postgres odoo-standin coredns traefik probe backup)
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
SECURITY_MIRROR=http://deb.debian.org/debian-security
BUILD_FORMAT=1

log() { printf 'build-images: %s\n' "$*" >&2; }
die() { printf 'build-images: ERROR: %s\n' "$*" >&2; exit 1; }

# The base file system every Debian image starts from; its text is part of their keys.
BASE_RECIPE="debootstrap --variant=minbase $SUITE $MIRROR; sources: $SUITE $SUITE-updates $SUITE-security"

key_of() {   # key_of IMAGE -> 12 hex digits over everything that defines the image
  local dir="$REPO/images/$1"
  [[ -f "$dir/recipe.sh" ]] || die "no recipe images/$1/recipe.sh"
  {
    echo "format $BUILD_FORMAT; base $BASE_RECIPE"
    cat "$REPO/images/oci-pack.py"
    (cd "$dir" && find . -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    # What a recipe copies from outside its folder (e.g. the backup image's compiled CLI).
    # shellcheck source=/dev/null
    (source "$dir/recipe.sh"; if declare -F key_inputs >/dev/null; then key_inputs "$REPO"; fi)
  } | sha256sum | cut -c1-12
}

tag_of() { (source "$REPO/images/$1/recipe.sh"; echo "$IMAGE_TAG"); }
ref_of() { echo "localhost/odoo-saas/$1:$(tag_of "$1")-$(key_of "$1")"; }
archive_of() { echo "$CACHE/$1-$(key_of "$1")/image.tar"; }

TMP_DIRS=()
cleanup() { local d; for d in "${TMP_DIRS[@]+"${TMP_DIRS[@]}"}"; do rm -rf "$d"; done; }
trap cleanup EXIT

# --- the Debian base: debootstrap once, kept as a tar in the cache ---------------------
base_tar() {
  local key tar
  key="$(printf '%s' "$BASE_RECIPE" | sha256sum | cut -c1-12)"
  tar="$CACHE/base-$SUITE-$key.tar"
  if [[ ! -f "$tar" ]]; then
    command -v debootstrap >/dev/null || die "debootstrap is missing (scripts/prepare-real-node.sh installs it)"
    local root t0=$SECONDS
    root="$(mktemp -d "$CACHE/.base.XXXXXX")"
    TMP_DIRS+=("$root")
    log "debootstrap $SUITE (minbase) ..."
    debootstrap --variant=minbase "$SUITE" "$root/fs" "$MIRROR" >"$root/debootstrap.log" 2>&1 \
      || { tail -20 "$root/debootstrap.log" >&2; die "debootstrap $SUITE failed"; }
    printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
      "$MIRROR" "$SUITE" "$MIRROR" "$SUITE" "$SECURITY_MIRROR" "$SUITE" >"$root/fs/etc/apt/sources.list"
    # Package scripts must never start a service inside the build.
    printf '#!/bin/sh\nexit 101\n' >"$root/fs/usr/sbin/policy-rc.d"
    chmod 0755 "$root/fs/usr/sbin/policy-rc.d"
    tar --numeric-owner -C "$root/fs" -cf "$tar.part" .
    mv "$tar.part" "$tar"
    rm -rf "$root"   # (this runs in a command substitution: the EXIT trap of the script does not)
    log "base $SUITE ready in $((SECONDS - t0))s"
  fi
  echo "$tar"
}

# Recipes write into ROOT by real paths only: ROOT/var/run is an absolute link to /run, and a
# path through it would change the build machine's own /run.

# in_root ROOT COMMAND...: run COMMAND chrooted in ROOT with /proc and name resolution, in a
# private mount namespace (its mounts end with it; nothing is left mounted on failure).
in_root() {
  local root="$1"
  shift
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  unshare --mount --propagation private -- sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$root" \
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 HOME=/root "$@"
}

apt_install() {   # apt_install ROOT PACKAGE...
  local root="$1"
  shift
  in_root "$root" apt-get update -qq
  in_root "$root" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  in_root "$root" apt-get clean
}

# What no image needs: package lists, documentation, the build's resolver.
slim_root() {
  local root="$1"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* \
    "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log "$root"/usr/sbin/policy-rc.d
  : >"$root/etc/resolv.conf"
  # The runtime mounts /dev, /proc and /sys; debootstrap's device nodes stay out of the layer.
  rm -rf "${root:?}"/dev/* "${root:?}"/proc/* "${root:?}"/sys/*
}

build_image() {
  local name="$1" key dest ref t0=$SECONDS
  key="$(key_of "$name")"
  dest="$CACHE/$name-$key"
  ref="$(ref_of "$name")"
  if [[ $FORCE -eq 0 && -f "$dest/image.tar" ]]; then
    log "[$name] cached ($ref)"
    return 0
  fi
  local work
  work="$(mktemp -d "$CACHE/.build-$name.XXXXXX")"
  TMP_DIRS+=("$work")
  mkdir -p "$work/root"
  # The recipe runs in a subshell with `set -e` of its own (as a plain command, not the left side
  # of `||`, where bash would ignore `set -e` in everything it calls).
  set +e
  # shellcheck source=/dev/null
  (
    set -euo pipefail
    IMAGE_BASE="" PACKAGES=()
    source "$REPO/images/$name/recipe.sh"
    if [[ "$IMAGE_BASE" == debian ]]; then
      base="$(base_tar)"
      tar --numeric-owner -C "$work/root" -xf "$base"
      if declare -F before_packages >/dev/null; then before_packages "$work/root"; fi
      [[ ${#PACKAGES[@]} -eq 0 ]] || apt_install "$work/root" "${PACKAGES[@]}"
    fi
    customize "$work/root" "$REPO/images/$name"
    [[ "$IMAGE_BASE" != debian ]] || slim_root "$work/root"
  )
  local rc=$?
  set -e
  ((rc == 0)) || die "[$name] building the file system failed"
  python3 "$REPO/images/oci-pack.py" "$work/root" "$REPO/images/$name/config.json" "$ref" "$work/image.tar" \
    || die "[$name] packing the OCI archive failed"
  rm -rf "$dest"
  mkdir -p "$dest"
  mv "$work/image.tar" "$dest/image.tar"
  echo "$ref" >"$dest/ref"
  log "[$name] built in $((SECONDS - t0))s: $ref ($(du -m "$dest/image.tar" | cut -f1) MB)"
}

FORCE=0
case "${1:-}" in
  refs)
    for image in "${ALL_IMAGES[@]}"; do echo "$image=$(ref_of "$image")"; done
    exit 0 ;;
  archive)
    [[ -n "${2:-}" ]] || die "archive needs an image name"
    archive_of "$2"
    exit 0 ;;
esac
IMAGES=()
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    pause|postgres|odoo-standin|coredns|traefik|probe|backup) IMAGES+=("$arg") ;;
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (images: ${ALL_IMAGES[*]}; commands: refs, archive IMAGE)" ;;
  esac
done
[[ ${#IMAGES[@]} -gt 0 ]] || IMAGES=("${ALL_IMAGES[@]}")
[[ $(id -u) -eq 0 ]] || die "building images needs root (chroot, file owners)"
mkdir -p "$CACHE"
for image in "${IMAGES[@]}"; do build_image "$image"; done
