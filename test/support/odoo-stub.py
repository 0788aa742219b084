#!/usr/bin/python3
"""A recording stand-in for the `odoo` command, because Odoo cannot run on this machine.

It records every call (arguments, stdin, which secrets were in the environment) and leaves the
database the way the real command would for the init script's purposes: `--init base` creates
the module table with base installed and a default admin/admin user; `shell` (given the fixed
script on stdin) writes the administrator login and password from the environment and the
marker. It proves nothing about Odoo itself; it lets the tests check the init script's flow.
"""
import configparser
import json
import os
import sys

import psycopg2

argv = sys.argv[1:]
is_shell = bool(argv) and argv[0] == "shell"
stdin = sys.stdin.read() if is_shell else ""
with open(os.environ["STUB_LOG"], "a", encoding="utf8") as log:
    log.write(json.dumps({"argv": argv, "stdin": stdin, "password_in_env": bool(os.environ.get("ODOO_ADMIN_PASSWORD"))}) + "\n")

fail = os.environ.get("STUB_FAIL", "")
if (fail == "init" and "--init" in argv) or (fail == "shell" and is_shell):
    sys.exit(3)

config = configparser.ConfigParser(interpolation=None)
config.read(argv[argv.index("--config") + 1])
options = config["options"]
conn = psycopg2.connect(host=options["db_host"], port=int(options["db_port"]), user=options["db_user"],
                        password=options["db_password"], dbname=argv[argv.index("--database") + 1])
conn.autocommit = True
cur = conn.cursor()
if "--init" in argv:
    cur.execute("CREATE TABLE ir_module_module (name text PRIMARY KEY, state text)")
    cur.execute("INSERT INTO ir_module_module VALUES ('base', 'installed')")
    cur.execute("CREATE TABLE ir_config_parameter (key text PRIMARY KEY, value text)")
    cur.execute("CREATE TABLE res_users (id int PRIMARY KEY, login text, password text)")
    cur.execute("INSERT INTO res_users VALUES (2, 'admin', 'admin')")
elif is_shell:
    if 'os.environ["ODOO_ADMIN_PASSWORD"]' not in stdin or "env.cr.commit()" not in stdin:
        sys.exit("stub: unexpected shell script")
    with conn:
        cur.execute("UPDATE res_users SET login = %s, password = %s WHERE id = 2",
                    (os.environ["ODOO_ADMIN_LOGIN"], os.environ["ODOO_ADMIN_PASSWORD"]))
        cur.execute("INSERT INTO ir_config_parameter VALUES ('odoo_saas.admin_initialised', '1')")
