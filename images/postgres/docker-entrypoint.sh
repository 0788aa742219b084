#!/usr/bin/env bash
# Entrypoint of the locally built PostgreSQL 15 image. It keeps the contract of the official
# image's docker-entrypoint.sh: POSTGRES_PASSWORD, POSTGRES_USER, POSTGRES_DB,
# POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD (each *_FILE too), PGDATA; initdb and the
# scripts of /docker-entrypoint-initdb.d only on an empty PGDATA; chmod 700 of PGDATA at every
# start (an fsGroup makes it group-writable, and postgres refuses that); run as root it drops to
# postgres (uid 999), run as 999 it skips the chown.
# Its functions have the official names, so scripts that source it (as the platform's role
# set-up does) work with either image.
# Differences: POSTGRES_INITDB_ARGS is split on white space (never evaluated as shell text).
set -Eeo pipefail

file_env() {   # file_env VAR [DEFAULT]: VAR from itself or from the file VAR_FILE names
  local var="$1" file_var="${1}_FILE" def="${2:-}" val
  if [[ -n "${!var:-}" && -n "${!file_var:-}" ]]; then
    echo "error: both $var and $file_var are set (but are exclusive)" >&2
    exit 1
  fi
  val="$def"
  if [[ -n "${!var:-}" ]]; then val="${!var}"; elif [[ -n "${!file_var:-}" ]]; then val="$(<"${!file_var}")"; fi
  export "$var"="$val"
  unset "$file_var"
}

docker_setup_env() {
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  : "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
  DATABASE_ALREADY_EXISTS=""
  [[ -s "$PGDATA/PG_VERSION" ]] && DATABASE_ALREADY_EXISTS=1
  return 0
}

docker_create_db_directories() {
  mkdir -p "$PGDATA"
  chmod 00700 "$PGDATA" || :
  mkdir -p /var/run/postgresql || :
  chmod 03775 /var/run/postgresql || :
  if [[ "$(id -u)" == 0 ]]; then
    find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
    find /var/run/postgresql \! -user postgres -exec chown postgres:postgres '{}' +
  fi
}

docker_verify_minimum_env() {
  if [[ -z "$POSTGRES_PASSWORD" && "$POSTGRES_HOST_AUTH_METHOD" != trust ]]; then
    cat >&2 <<'MSG'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the superuser.
       (or POSTGRES_HOST_AUTH_METHOD=trust to allow all connections without a password)
MSG
    exit 1
  fi
}

docker_init_database_dir() {
  local args=()
  [[ -z "$POSTGRES_INITDB_ARGS" ]] || read -ra args <<<"$POSTGRES_INITDB_ARGS"
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") "${args[@]}"
}

pg_setup_hba_conf() {
  printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
}

psql_as_owner() { psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"; }

# As the official image's: SQL as the owner, in POSTGRES_DB unless it is empty (callers that
# source this file, such as the platform's role set-up, use it by this name).
docker_process_sql() {
  local runner=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
  [[ -z "${POSTGRES_DB:-}" ]] || runner+=(--dbname "$POSTGRES_DB")
  PGHOST='' PGHOSTADDR='' "${runner[@]}" "$@"
}

docker_temp_server_start() {
  # Sockets only, so nothing can connect before the scripts ran.
  PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
}

docker_temp_server_stop() { PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -m fast -w stop; }

docker_setup_db() {
  local exists
  exists="$(psql_as_owner --dbname postgres --tuples-only --no-align --set db="$POSTGRES_DB" \
    <<<"SELECT 1 FROM pg_database WHERE datname = :'db';")"
  if [[ -z "$exists" ]]; then
    psql_as_owner --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    echo
  fi
}

docker_process_init_files() {
  local f
  for f in "$@"; do
    case "$f" in
      *.sh)
        if [[ -x "$f" ]]; then echo "$0: running $f"; "$f"; else echo "$0: sourcing $f"; . "$f"; fi ;;
      *.sql) echo "$0: running $f"; psql_as_owner --dbname "$POSTGRES_DB" -f "$f"; echo ;;
      *.sql.gz) echo "$0: running $f"; gunzip -c "$f" | psql_as_owner --dbname "$POSTGRES_DB"; echo ;;
      *) echo "$0: ignoring $f" ;;
    esac
  done
}

_main() {
  if [[ "${1:-}" == -* ]]; then set -- postgres "$@"; fi
  if [[ "${1:-}" == postgres ]]; then
    docker_setup_env
    docker_create_db_directories
    if [[ "$(id -u)" == 0 ]]; then
      exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
    fi
    if [[ -z "$DATABASE_ALREADY_EXISTS" ]]; then
      docker_verify_minimum_env
      docker_init_database_dir
      pg_setup_hba_conf
      export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
      docker_temp_server_start
      docker_setup_db
      shopt -s nullglob
      docker_process_init_files /docker-entrypoint-initdb.d/*
      shopt -u nullglob
      docker_temp_server_stop
      unset PGPASSWORD
      echo 'PostgreSQL init process complete; ready for start up.'
    else
      echo 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
    fi
  fi
  exec "$@"
}

# Sourced (as the official image allows), it only defines the functions above.
_is_sourced() { [[ "${#FUNCNAME[@]}" -ge 2 && "${FUNCNAME[0]}" == _is_sourced && "${FUNCNAME[1]}" == source ]]; }
if ! _is_sourced; then _main "$@"; fi
