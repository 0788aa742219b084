# The backup image built locally with the contents images/backup/Dockerfile describes (that
# Dockerfile stays the way real users build it): Debian bookworm, postgresql-client-15, Node.js 20
# (this machine's own `node`, as no registry serves the node:20 image), only the runtime packages
# of the backup CLI (collect-runtime-deps.js), dist/backup without its k8s helpers, uid 10001.
# Needs `npx tsc -p tsconfig.json` first (dist/).
IMAGE_TAG=0.1.0-local
IMAGE_BASE=debian
PACKAGES=(postgresql-client-15 ca-certificates)
key_inputs() {   # key_inputs REPO: the compiled CLI, the lock file and the Node.js copied in
  local repo="$1"
  node --version
  (cd "$repo" && sha256sum package-lock.json dist/tenants/tenant-id.js \
    && find dist/backup -type f -name '*.js' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}
customize() {   # customize ROOT RECIPE_DIR
  local root="$1" repo node
  repo="$(cd "$2/../.." && pwd)"
  node="$(command -v node)"
  [[ "$("$node" --version)" == v20.* ]] || { echo "the backup image needs Node.js 20, found $("$node" --version)" >&2; return 1; }
  [[ -f "$repo/dist/backup/cli.js" ]] || { echo "dist/backup/cli.js missing: run npx tsc -p tsconfig.json" >&2; return 1; }
  # Debian already has a system user and group `backup` (34): uid/gid 10001 get their own name.
  in_root "$root" groupadd --gid 10001 odoo-backup
  in_root "$root" useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin odoo-backup
  install -m 0755 "$node" "$root/usr/local/bin/node"
  mkdir -p "$root/app/dist/tenants"
  node "$2/collect-runtime-deps.js" "$repo" "$root/app" yazl yauzl @aws-sdk/client-s3 @aws-sdk/lib-storage >/dev/null
  cp -r "$repo/dist/backup" "$root/app/dist/backup"
  find "$root/app/dist" -name '*.map' -delete
  cp "$repo/dist/tenants/tenant-id.js" "$root/app/dist/tenants/tenant-id.js"
  rm -rf "$root/app/dist/backup/k8s"
}
