"""Database side of the ODOO STAND-IN (see `odoo` beside this file): passwords stored the way
Odoo stores them (passlib's pbkdf2_sha512 format), the core tables `odoo --init base` creates, and
the tiny `env` that `odoo shell` scripts run against. Not Odoo.
"""
import base64
import hashlib
import hmac
import os
import secrets
import sys
import uuid

import psycopg2

SERIES = os.environ.get("ODOO_VERSION", "17.0")
ROUNDS = 600000


def say(message):
    print(f"odoo stand-in: {message}", file=sys.stderr, flush=True)


def connect(options, database, timeout=5):
    return psycopg2.connect(host=options.get("db_host"), port=int(options.get("db_port", "5432")),
                            user=options.get("db_user"), password=options.get("db_password"),
                            dbname=database, connect_timeout=timeout)


def ab64(data):
    return base64.b64encode(data).decode().rstrip("=").replace("+", ".")


def hash_password(password):
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, ROUNDS)
    return f"$pbkdf2-sha512${ROUNDS}${ab64(salt)}${ab64(digest)}"


def check_password(password, stored):
    try:
        _, scheme, rounds, salt, digest = stored.split("$")
        raw_salt = base64.b64decode(salt.replace(".", "+") + "=" * (-len(salt) % 4))
    except ValueError:
        return False
    if scheme != "pbkdf2-sha512":
        return False
    mine = hashlib.pbkdf2_hmac("sha512", password.encode(), raw_salt, int(rounds))
    return hmac.compare_digest(ab64(mine), digest)


CORE_TABLES = """
CREATE TABLE ir_module_module (id serial PRIMARY KEY, name varchar NOT NULL UNIQUE, latest_version varchar, state varchar);
CREATE TABLE ir_config_parameter (id serial PRIMARY KEY, key varchar NOT NULL UNIQUE, value text NOT NULL,
  create_date timestamp DEFAULT (now() AT TIME ZONE 'utc'), write_date timestamp DEFAULT (now() AT TIME ZONE 'utc'));
CREATE TABLE res_partner (id serial PRIMARY KEY, name varchar, email varchar, write_date timestamp DEFAULT (now() AT TIME ZONE 'utc'));
CREATE TABLE res_users (id serial PRIMARY KEY, login varchar NOT NULL UNIQUE, password varchar, active boolean DEFAULT true,
  partner_id int REFERENCES res_partner (id), write_date timestamp DEFAULT (now() AT TIME ZONE 'utc'));
CREATE TABLE res_users_log (id serial PRIMARY KEY, create_uid int, create_date timestamp, write_date timestamp);
CREATE TABLE res_users_apikeys (id serial PRIMARY KEY, user_id int, name varchar);
CREATE TABLE ir_attachment (id serial PRIMARY KEY, name varchar NOT NULL, store_fname varchar, checksum varchar,
  mimetype varchar, file_size int, res_model varchar, res_id int, create_date timestamp DEFAULT (now() AT TIME ZONE 'utc'));
"""


def write_attachment(cur, data_dir, database, name, content):
    checksum = hashlib.sha1(content).hexdigest()
    store_fname = f"{checksum[:2]}/{checksum}"
    path = os.path.join(data_dir, "filestore", database, store_fname)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(content)
    cur.execute("INSERT INTO ir_attachment (name, store_fname, checksum, mimetype, file_size, res_model)"
                " VALUES (%s, %s, %s, 'text/plain', %s, 'ir.ui.view')", (name, store_fname, checksum, len(content)))


def init_base(options, database):
    conn = connect(options, database)
    with conn, conn.cursor() as cur:
        cur.execute(CORE_TABLES)
        cur.execute("INSERT INTO ir_module_module (name, latest_version, state) VALUES ('base', %s, 'installed')",
                    (f"{SERIES}.1.3",))
        cur.execute("INSERT INTO ir_config_parameter (key, value) VALUES ('database.uuid', %s),"
                    " ('database.secret', %s), ('odoo_saas.standin', 'true')", (str(uuid.uuid4()), secrets.token_hex(32)))
        cur.execute("INSERT INTO res_partner (id, name) VALUES (1, 'My Company'), (2, 'Administrator'), (3, 'OdooBot')")
        cur.execute("SELECT setval('res_partner_id_seq', 3)")
        cur.execute("INSERT INTO res_users (id, login, password, active, partner_id) VALUES"
                    " (1, '__system__', NULL, false, 3), (2, 'admin', %s, true, 2)", (hash_password("admin"),))
        cur.execute("SELECT setval('res_users_id_seq', 2)")
        write_attachment(cur, options.get("data_dir", "/var/lib/odoo"), database, "web.assets_stand_in.txt",
                         b"Odoo stand-in asset: written by `odoo --init base` on its filestore.\n")
    conn.close()
    say(f"database {database}: base installed (stand-in tables, no demo data)")


class Record:
    def __init__(self, cur, table, record_id):
        self._cur, self._table, self._id = cur, table, record_id

    def write(self, values):
        if self._table != "res_users":
            raise NotImplementedError(f"the stand-in cannot write {self._table}")
        for field, value in values.items():
            if field == "password":
                self._cur.execute("UPDATE res_users SET password = %s, write_date = now() AT TIME ZONE 'utc' WHERE id = %s",
                                  (hash_password(value), self._id))
            elif field == "login":
                self._cur.execute("UPDATE res_users SET login = %s, write_date = now() AT TIME ZONE 'utc' WHERE id = %s",
                                  (value, self._id))
            elif field == "email":
                self._cur.execute("UPDATE res_partner SET email = %s FROM res_users u WHERE u.id = %s AND res_partner.id = u.partner_id",
                                  (value, self._id))
            else:
                raise NotImplementedError(f"the stand-in cannot write res.users.{field}")
        return True


class ConfigParameters:
    def __init__(self, cur):
        self._cur = cur

    def sudo(self):
        return self

    def get_param(self, key, default=False):
        self._cur.execute("SELECT value FROM ir_config_parameter WHERE key = %s", (key,))
        row = self._cur.fetchone()
        return row[0] if row else default

    def set_param(self, key, value):
        self._cur.execute("INSERT INTO ir_config_parameter (key, value) VALUES (%s, %s) ON CONFLICT (key)"
                          " DO UPDATE SET value = EXCLUDED.value, write_date = now() AT TIME ZONE 'utc'", (key, str(value)))


class Env:
    """The few parts of Odoo's `env` the platform's first-start script uses."""
    REFS = {"base.user_admin": ("res_users", 2)}

    def __init__(self, conn):
        self.cr = conn
        self._cur = conn.cursor()

    def ref(self, xml_id):
        if xml_id not in self.REFS:
            raise NotImplementedError(f"the stand-in knows no record {xml_id}")
        return Record(self._cur, *self.REFS[xml_id])

    def __getitem__(self, model):
        if model != "ir.config_parameter":
            raise NotImplementedError(f"the stand-in has no model {model}")
        return ConfigParameters(self._cur)


def run_shell(options, database, script):
    conn = connect(options, database)
    try:
        exec(compile(script, "<odoo shell>", "exec"), {"env": Env(conn), "__name__": "__main__"})
    finally:
        conn.rollback()  # like Odoo's shell: only what the script committed stays
        conn.close()
