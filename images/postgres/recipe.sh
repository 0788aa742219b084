# PostgreSQL 15 from Debian bookworm, keeping the official image's contract: user postgres with
# uid/gid 999, PGDATA, POSTGRES_* (and *_FILE), initdb on first start, /docker-entrypoint-initdb.d,
# chmod 700 of the data folder at every start (docker-entrypoint.sh in this folder).
IMAGE_TAG=15
IMAGE_BASE=debian
PACKAGES=(postgresql-15)
before_packages() {   # the user must exist before the package makes one with another uid
  in_root "$1" groupadd --system --gid 999 postgres
  in_root "$1" useradd --system --uid 999 --gid 999 --home-dir /var/lib/postgresql --shell /bin/bash postgres
}
customize() {   # customize ROOT RECIPE_DIR
  local root="$1"
  # No cluster of the package's own: the entrypoint makes one in PGDATA.
  rm -rf "$root/etc/postgresql/15/main" "$root/var/lib/postgresql/15"
  # Listen on every address of the pod, as the official image does.
  sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" "$root/usr/share/postgresql/15/postgresql.conf.sample"
  grep -q "^listen_addresses = '\*'" "$root/usr/share/postgresql/15/postgresql.conf.sample"
  install -d -o 999 -g 999 -m 0700 "$root/var/lib/postgresql/data"
  # /var/run is an absolute link to /run: name the real path, never one through a link.
  install -d -o 999 -g 999 -m 03775 "$root/run/postgresql"
  install -d -m 0755 "$root/docker-entrypoint-initdb.d"
  install -m 0755 "$2/docker-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
}
