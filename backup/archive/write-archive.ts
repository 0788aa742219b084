// Builds the backup zip as a stream: dump.sql straight from pg_dump, then the filestore files one
// at a time, then manifest.json with the digests gathered on the way. Nothing is held in memory
// beyond stream buffers and the manifest itself.
import { promises as fsp } from "node:fs";
import { FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import { deflateRawSync } from "node:zlib";
import { ZipFile } from "yazl";
import { LogFn, ProgressCounter } from "../progress";
import { walkFilestore } from "./filestore-walk";
import { FileDigest, HashingStream } from "./hashing-stream";
import { BackupManifest } from "./manifest";

export interface ArchiveInput {
  /** Called when dump.sql's turn comes; the stream must error (not end) if the dump failed. */
  openDump: () => Readable;
  filestoreDir: string;
  /** The manifest minus what is measured while writing. */
  manifest: Omit<BackupManifest, "dump" | "filestore">;
  compressionLevel: number;
  log: LogFn;
}

export interface ArchiveOutput {
  /** The zip bytes. Ends only when the archive is complete; errors otherwise. */
  stream: Readable;
  /** The manifest written into the archive, once all of it has been produced. */
  manifest: Promise<BackupManifest>;
}

const SAMPLE_BYTES = 64 * 1024;

/**
 * Most attachments (images, PDFs, office files) are already compressed: deflating them again
 * costs CPU for nothing. A deflate of the file's first 64 KiB decides: stored when it saves
 * under 10%.
 */
async function levelForFile(handle: FileHandle, size: number, level: number): Promise<number> {
  if (level === 0 || size === 0) return level;
  const sample = Buffer.alloc(Math.min(size, SAMPLE_BYTES));
  const { bytesRead } = await handle.read(sample, 0, sample.length, 0);
  if (bytesRead === 0) return level;
  return deflateRawSync(sample.subarray(0, bytesRead), { level: 1 }).length > bytesRead * 0.9 ? 0 : level;
}

export function writeBackupArchive(input: ArchiveInput): ArchiveOutput {
  const zip = new ZipFile();
  const out = zip.outputStream as unknown as Readable;
  let complete = false;
  // Any failure of the zip writer or of whoever consumes `out` stops the producer below.
  const broken = new Promise<never>((_, reject) => {
    zip.on("error", reject);
    out.on("error", reject);
    out.on("close", () => {
      if (!complete) reject(new Error("the archive's destination closed before the archive was complete"));
    });
  });
  broken.catch(() => undefined);

  let current: Readable | undefined;
  async function addEntry(source: Readable, name: string, options: { mtime: Date; mode?: number; compressionLevel: number }, progress?: ProgressCounter): Promise<FileDigest> {
    current = source;
    const hasher = new HashingStream(progress ? (n) => progress.add(n) : undefined);
    const done = new Promise<FileDigest>((resolve, reject) => {
      hasher.on("end", () => resolve(hasher.digest()));
      hasher.on("error", reject);
      // yazl pipes its inputs with .pipe(), which does not forward errors: do it here.
      source.on("error", (err: Error) => hasher.destroy(err));
    });
    source.pipe(hasher);
    zip.addReadStream(hasher, name, options);
    return Promise.race([done, broken]);
  }

  const manifest = (async (): Promise<BackupManifest> => {
    const created = new Date(input.manifest.created);
    const dumpProgress = new ProgressCounter("dump.sql", input.log);
    const dump = await addEntry(input.openDump(), "dump.sql", { mtime: created, compressionLevel: input.compressionLevel }, dumpProgress);
    dumpProgress.finish();

    zip.addEmptyDirectory("filestore/", { mtime: created });
    // File names are data: a file called "__proto__" must be listed, not become the prototype.
    const files = Object.create(null) as Record<string, FileDigest>;
    const fileProgress = new ProgressCounter("filestore", input.log);
    let totalSize = 0;
    for await (const file of walkFilestore(input.filestoreDir, input.log)) {
      // Opened one at a time, in turn, so thousands of files never mean thousands of descriptors.
      const handle = await fsp.open(file.absolute, "r").catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return undefined;
        throw err;
      });
      if (!handle) {
        input.log(`${JSON.stringify(file.relative)} vanished while the backup ran (removed by Odoo); skipped`);
        continue;
      }
      const stat = await handle.stat();
      const compressionLevel = await levelForFile(handle, stat.size, input.compressionLevel);
      const digest = await addEntry(handle.createReadStream({ start: 0 }), `filestore/${file.relative}`, { mtime: stat.mtime, mode: stat.mode, compressionLevel }, fileProgress);
      files[file.relative] = digest;
      totalSize += digest.size;
    }
    fileProgress.finish(`in ${Object.keys(files).length} files`);

    const full: BackupManifest = {
      ...input.manifest,
      dump,
      filestore: { file_count: Object.keys(files).length, total_size: totalSize, files },
    };
    zip.addBuffer(Buffer.from(JSON.stringify(full, null, 1) + "\n", "utf8"), "manifest.json", { mtime: created, compressionLevel: 6 });
    complete = true;
    zip.end();
    return full;
  })();

  manifest.catch((err: Error) => {
    current?.destroy();
    out.destroy(err);
  });
  return { stream: out, manifest };
}
