// `cli.js restore-upload ... -`: the in-cluster side of an owner's database upload. The signup
// server streams the zip on stdin (pods/exec); it is written to a private file within the limits
// (yauzl needs random access), then restoreUpload checks and restores it. stderr carries one
// `phase: <name>` line per phase and, on a refusal, `refused <code>: <message>` (exit 3), which
// the server reads; the file is removed in every case.
import { createWriteStream, promises as fsp } from "node:fs";
import * as path from "node:path";
import { Transform, TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { majorVersionOf } from "../archive/manifest";
import { ConfigError, RestoreConfig } from "../config";
import { stderrLog } from "../progress";
import { UploadLimits, UploadRefusedError } from "./check-upload";
import { restoreUpload } from "./restore-upload";

export const UPLOAD_LIMIT_FLAGS = ["max-dump-bytes", "max-filestore-bytes", "max-entries", "max-ratio"] as const;

/** Exit status of a refusal: the server reads the code and reason from stderr. */
export const REFUSED_EXIT = 3;

class Cap extends Transform {
  private bytes = 0;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(this.bytes > this.max ? new UploadRefusedError("dump_too_large", "the file is larger than this plan allows") : null, chunk);
  }
}

export async function restoreUploadCommand(config: RestoreConfig, env: NodeJS.ProcessEnv, limits: Omit<UploadLimits, "odooMajor">, input: NodeJS.ReadableStream = process.stdin): Promise<number> {
  const version = Object.hasOwn(env, "ODOO_VERSION") ? env.ODOO_VERSION : undefined;
  const major = majorVersionOf(version ?? "");
  if (major !== "17.0" && major !== "18.0") throw new ConfigError(`ODOO_VERSION must be a 17.0 or 18.0 series; got ${JSON.stringify(version ?? "")}`);
  const log = stderrLog(`restore-upload ${config.tenant}`);
  const workDir = config.workDir ?? path.dirname(config.filestoreDir);
  await fsp.mkdir(workDir, { recursive: true });
  const dir = await fsp.mkdtemp(path.join(workDir, ".upload-"));
  const file = path.join(dir, "upload.zip");
  try {
    // Compressed never exceeds what it expands to, beyond zip's own few bytes per member.
    await pipeline(input, new Cap(limits.maxDumpBytes + limits.maxFilestoreBytes + 1024 * limits.maxEntries), createWriteStream(file, { flags: "wx", mode: 0o600 }));
    const result = await restoreUpload(file, {
      pg: config.pg,
      filestoreDir: config.filestoreDir,
      limits: { ...limits, odooMajor: major },
      log,
      onPhase: (phase) => process.stderr.write(`phase: ${phase}\n`),
    });
    process.stdout.write(`restored the uploaded database (Odoo ${result.check.odooVersion}) into ${JSON.stringify(result.database)} and ${result.filestoreDir}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof UploadRefusedError)) throw err;
    process.stderr.write(`refused ${err.code}: ${err.message.replace(/\n/g, " ")}\n`);
    return REFUSED_EXIT;
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}
