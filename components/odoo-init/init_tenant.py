#!/usr/bin/env python3
"""First start of a tenant's Odoo: initialise its database without demo data, then set the
administrator's login and generated password, exactly once.

Runs as the init container of the Odoo pod (official odoo image, which ships psycopg2), so
Odoo's HTTP server never starts before the default admin/admin account is replaced.
All values arrive by environment; nothing is pasted into shell text, and the password never
appears on a command line.
"""
import configparser
import os
import subprocess
import sys
import time

import psycopg2

MARKER = "odoo_saas.admin_initialised"

# Fixed code run inside `odoo shell`; the login and password are read from the environment.
SET_ADMIN = """
import os
admin = env.ref("base.user_admin")
admin.write({
    "login": os.environ["ODOO_ADMIN_LOGIN"],
    "email": os.environ["ODOO_ADMIN_LOGIN"],
    "password": os.environ["ODOO_ADMIN_PASSWORD"],
})
env["ir.config_parameter"].sudo().set_param("odoo_saas.admin_initialised", "1")
env.cr.commit()
"""


def log(message):
    print(f"odoo-init: {message}", flush=True)


def required(name):
    value = os.environ.get(name, "")
    if not value:
        sys.exit(f"odoo-init: environment variable {name} is not set")
    return value


def db_params(rc_path):
    parser = configparser.ConfigParser(interpolation=None)
    if not parser.read(rc_path):
        sys.exit(f"odoo-init: cannot read {rc_path}")
    options = parser["options"]
    return {
        "host": options.get("db_host"),
        "port": int(options.get("db_port", "5432")),
        "user": options.get("db_user"),
        "password": options.get("db_password"),
    }


def connect(params, dbname, timeout_s):
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return psycopg2.connect(dbname=dbname, connect_timeout=5, **params)
        except psycopg2.OperationalError as err:
            if time.monotonic() > deadline:
                sys.exit(f"odoo-init: PostgreSQL not reachable after {timeout_s}s: {err}")
            log("waiting for PostgreSQL")
            time.sleep(3)


def query_one(conn, sql, args=()):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        row = cur.fetchone()
        return row[0] if row else None


def base_installed(conn):
    exists = query_one(conn, "SELECT to_regclass('public.ir_module_module') IS NOT NULL")
    return bool(exists) and query_one(conn, "SELECT state FROM ir_module_module WHERE name = 'base'") == "installed"


def admin_initialised(conn):
    return query_one(conn, "SELECT value FROM ir_config_parameter WHERE key = %s", (MARKER,)) == "1"


def run(argv, stdin_text=None):
    log("running " + " ".join(argv[:2]) + " ...")
    result = subprocess.run(argv, input=stdin_text, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"odoo-init: {argv[0]} {argv[1]} exited with {result.returncode}")


def main():
    rc_path = required("ODOO_RC")
    database = required("TENANT_DB")
    required("ODOO_ADMIN_LOGIN")
    required("ODOO_ADMIN_PASSWORD")
    odoo = os.environ.get("ODOO_BIN", "odoo")
    params = db_params(rc_path)

    conn = connect(params, database, int(os.environ.get("DB_WAIT_SECONDS", "300")))
    conn.autocommit = True
    try:
        installed = base_installed(conn)
        initialised = installed and admin_initialised(conn)
    finally:
        conn.close()

    if not installed:
        run([odoo, "--config", rc_path, "--database", database, "--init", "base",
             "--without-demo=all", "--stop-after-init", "--no-http"])
    if not initialised:
        # Marker and password are written in one transaction: an interrupted run repeats it.
        run([odoo, "shell", "--config", rc_path, "--database", database, "--no-http"], stdin_text=SET_ADMIN)
        log("administrator login and password set")
    else:
        log("database already initialised; nothing to do")


if __name__ == "__main__":
    main()
