# The pause image: one static program, no base file system.
IMAGE_TAG=1
IMAGE_BASE=scratch
customize() {   # customize ROOT RECIPE_DIR
  (cd "$2" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-trimpath -buildvcs=false" go build -ldflags "-s -w" -o "$1/pause" .)
}
