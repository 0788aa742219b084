/**
 * Dumps whose statements would run programs or read files on the database server, each refused by
 * PostgreSQL to a tenant's application role (issue 19, item 2). Shared by the backup suite (a local
 * PostgreSQL) and the node suite (the upload restore in the tenant's importer pod).
 */
export const HEADER = "SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\nCREATE TABLE public.planted (a text);\nCREATE SEQUENCE public.s;\n";

export interface Hostile {
  title: string;
  /** The statements, after HEADER; MARKER stands for a file the program would create. */
  sql: string;
  /** PostgreSQL's refusal, as the upload reports it. */
  refusal: RegExp;
}

export const HOSTILE: Hostile[] = [
  {
    title: "a plpgsql function that EXECUTEs COPY ... TO PROGRAM, called from setval",
    sql: "CREATE FUNCTION public.run_program() RETURNS bigint LANGUAGE plpgsql AS $$BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch MARKER'''; RETURN 1; END$$;\nSELECT pg_catalog.setval('public.s', public.run_program());\n",
    refusal: /must be superuser or have privileges of the pg_execute_server_program role to COPY to or from an external program/,
  },
  {
    title: "CREATE FUNCTION ... LANGUAGE c AS 'libc.so.6', 'system'",
    sql: "CREATE FUNCTION public.system(cstring) RETURNS integer LANGUAGE c AS 'libc.so.6', 'system';\nSELECT pg_catalog.setval('public.s', public.system('touch MARKER'));\n",
    refusal: /permission denied for language c/,
  },
  {
    title: "pg_read_file inside setval(...)",
    sql: "SELECT pg_catalog.setval('public.s', length(pg_catalog.pg_read_file('/etc/passwd')));\n",
    refusal: /permission denied for function pg_read_file/,
  },
  {
    title: "lo_import of a server file inside setval(...)",
    sql: "SELECT pg_catalog.setval('public.s', pg_catalog.lo_import('/etc/passwd')::bigint);\n",
    refusal: /permission denied for function lo_import/,
  },
  {
    title: "CREATE EVENT TRIGGER running a program on every later DDL",
    sql: "CREATE FUNCTION public.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch MARKER'''; END$$;\nCREATE EVENT TRIGGER on_ddl ON ddl_command_start EXECUTE FUNCTION public.on_ddl();\nCREATE TABLE public.after_trigger (a int);\n",
    refusal: /permission denied to create event trigger/,
  },
  {
    title: "GRANT pg_execute_server_program (and the server-file roles) to itself",
    sql: "GRANT pg_execute_server_program, pg_read_server_files, pg_write_server_files TO CURRENT_USER;\n",
    refusal: /must have admin option on role "pg_execute_server_program"/,
  },
];
