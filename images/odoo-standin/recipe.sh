# The ODOO STAND-IN image (not Odoo: Odoo cannot be had here). Python 3 and psycopg2 from
# Debian bookworm, the stand-in program as /usr/bin/odoo (see its header for the contract it
# honours; /usr/bin/odoo links to /usr/lib/odoo-standin/), user odoo with uid/gid 101 like the official odoo:17.0 image, /var/lib/odoo and
# /etc/odoo as there.
IMAGE_TAG=17.0-standin
IMAGE_BASE=debian
PACKAGES=(python3 python3-psycopg2)
customize() {   # customize ROOT RECIPE_DIR
  local root="$1"
  in_root "$root" groupadd --system --gid 101 odoo
  in_root "$root" useradd --system --uid 101 --gid 101 --home-dir /var/lib/odoo --no-create-home --shell /usr/sbin/nologin odoo
  install -d -o 101 -g 101 -m 0755 "$root/var/lib/odoo" "$root/mnt/extra-addons"
  install -d -m 0755 "$root/etc/odoo"
  install -d -m 0755 "$root/usr/lib/odoo-standin"
  install -m 0755 "$2/odoo" "$root/usr/lib/odoo-standin/odoo"
  install -m 0644 "$2/standin_db.py" "$root/usr/lib/odoo-standin/standin_db.py"
  ln -s ../lib/odoo-standin/odoo "$root/usr/bin/odoo"
}
