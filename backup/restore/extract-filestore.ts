import { createWriteStream, promises as fsp } from "node:fs";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { ArchiveRejectedError, VerifiedArchive } from "../archive/read-archive";
import { HashingStream } from "../archive/hashing-stream";
import { LogFn, ProgressCounter } from "../progress";

/**
 * Writes the archive's filestore into `targetDir` (which must not exist yet), checking each
 * file's SHA-256 again on the way: the archive was verified, but this proves what landed on disk.
 */
export async function extractFilestore(archive: VerifiedArchive, targetDir: string, log: LogFn): Promise<void> {
  await fsp.mkdir(targetDir, { recursive: false });
  const made = new Set<string>([targetDir]);
  const progress = new ProgressCounter("filestore extracted", log);
  for (const relative of archive.filestoreFiles()) {
    const target = path.join(targetDir, ...relative.split("/"));
    const inside = path.relative(targetDir, target);
    if (inside === "" || inside.startsWith("..") || path.isAbsolute(inside)) {
      throw new ArchiveRejectedError(`filestore member ${JSON.stringify(relative)} points outside the filestore`);
    }
    const dir = path.dirname(target);
    if (!made.has(dir)) {
      await fsp.mkdir(dir, { recursive: true });
      made.add(dir);
    }
    const hasher = new HashingStream((n) => progress.add(n));
    await pipeline(await archive.openFilestoreFile(relative), hasher, createWriteStream(target, { flags: "wx" }));
    const want = archive.manifest.filestore.files[relative]!;
    const got = hasher.digest();
    if (got.sha256 !== want.sha256 || got.size !== want.size) {
      throw new ArchiveRejectedError(`filestore/${relative} changed between verification and extraction`);
    }
  }
  progress.finish(`in ${archive.filestoreFiles().length} files`);
}
