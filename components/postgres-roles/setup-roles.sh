#!/usr/bin/env bash
# Init container of a tenant's PostgreSQL pod (official postgres image, same volume and user as
# the server): initialise a fresh volume exactly as the image's entrypoint would, then run
# setup-roles.sql as the bootstrap superuser on every start, so fresh and existing volumes end
# with the same roles before anything can connect. The server runs on its Unix socket only
# (listen_addresses=''), so no client sees it half-way; the main container then finds an
# initialised volume and starts the server as usual.
#
# The image's entrypoint defines each step as a function and runs nothing when sourced.
# Settings come from the environment only (see setup-roles.sql); nothing here is built from them.
set -Eeo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC1091
source /usr/local/bin/docker-entrypoint.sh

docker_setup_env
docker_create_db_directories
if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
	docker_verify_minimum_env
	docker_init_database_dir
	pg_setup_hba_conf
fi
# Local connections are trusted by the image's pg_hba.conf; the password serves a stricter one.
export PGPASSWORD="${POSTGRES_PASSWORD:-}"
docker_temp_server_start
if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
	docker_setup_db
fi
POSTGRES_DB='' docker_process_sql --dbname postgres -f "$here/setup-roles.sql"
docker_temp_server_stop
echo "setup-roles: roles of ${POSTGRES_DB} set (application role ${ODOO_SAAS_APP_ROLE})"
