/**
 * A process that starts a throwaway PostgreSQL server (local/local-postgres.ts), prints its
 * folder and port as one JSON line, and waits to be killed: the watchdog test's victim.
 */
import { startPostgres } from "../../local/local-postgres";

void startPostgres().then((server) => {
  process.stdout.write(`${JSON.stringify({ port: server.env.PGPORT })}\n`);
  setInterval(() => undefined, 60_000);
});
