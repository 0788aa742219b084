# The probe image of check:isolation on the real node: Debian bookworm with netcat-openbsd
# (`sh` and `nc -z` are what the probe runs; Debian's busybox nc has no -z).
IMAGE_TAG=1
IMAGE_BASE=debian
PACKAGES=(netcat-openbsd)
customize() {   # customize ROOT RECIPE_DIR
  :
}
