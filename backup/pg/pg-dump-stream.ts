import { Readable, Transform } from "node:stream";
import { PgConnection } from "../config";
import { spawnPg } from "./pg-process";

/**
 * pg_dump's plain SQL output as a stream. The stream only ends cleanly when pg_dump exited 0;
 * otherwise it errors, so a dump cut short can never be packed into an archive that looks whole.
 */
export function pgDumpStream(conn: PgConnection): Readable {
  const args = [
    "--format=plain",
    "--no-owner",
    "--no-privileges",
    // Large objects (Odoo stores none by default, but modules may): `-b` is accepted by every
    // version (its long name changed from --blobs to --large-objects in 16).
    "-b",
    "--encoding=UTF8",
    "--no-password",
  ];
  const dump = spawnPg(conn, "pg_dump", args, conn.database, { stdin: "ignore", stdout: "pipe" });
  const checked = new Transform({
    transform(chunk, _encoding, callback) {
      callback(null, chunk);
    },
    flush(callback) {
      dump.exited.then(() => callback(), (err: Error) => callback(err));
    },
  });
  dump.exited.catch((err: Error) => checked.destroy(err));
  dump.child.stdout!.on("error", (err) => checked.destroy(err));
  dump.child.stdout!.pipe(checked);
  // If the consumer gives up (e.g. the upload failed), stop pg_dump instead of letting it run on.
  checked.on("close", () => {
    if (dump.child.exitCode === null && dump.child.signalCode === null) dump.child.kill("SIGTERM");
  });
  return checked;
}
