// Opens a backup zip and proves it whole before a restore touches anything: the zip structure
// reads, manifest.json is sound, every member listed there is present (and nothing else), and
// every member's size and SHA-256 match. A truncated or altered archive is refused here.
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as yauzl from "yauzl";
import { LogFn, ProgressCounter } from "../progress";
import { FileDigest, HashingStream } from "./hashing-stream";
import { BackupManifest, ManifestError, parseManifest } from "./manifest";

export class ArchiveRejectedError extends Error {
  override readonly name = "ArchiveRejectedError";
}

export interface VerifiedArchive {
  manifest: BackupManifest;
  /** Streams a member again (for loading/extraction). */
  openDump(): Promise<Readable>;
  filestoreFiles(): string[];
  openFilestoreFile(relative: string): Promise<Readable>;
  close(): void;
}

const MANIFEST_MAX_BYTES = 256 * 1024 * 1024;

async function readAll(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ArchiveRejectedError("manifest.json is implausibly large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function digestOf(stream: Readable, onBytes: (n: number) => void): Promise<FileDigest> {
  const hasher = new HashingStream(onBytes);
  const sink = new Writable({ write: (_chunk, _enc, cb) => cb() });
  await pipeline(stream, hasher, sink);
  return hasher.digest();
}

export async function openVerifiedArchive(zipPath: string, expectedTenant: string, log: LogFn): Promise<VerifiedArchive> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(zipPath, { autoClose: false, validateEntrySizes: true, strictFileNames: true, decodeStrings: true });
  } catch (err) {
    throw new ArchiveRejectedError(`not a readable zip archive (truncated or damaged?): ${(err as Error).message}`);
  }
  try {
    const entries = new Map<string, yauzl.Entry>();
    try {
      for await (const entry of zip.eachEntry()) {
        if (entries.has(entry.fileName)) throw new ArchiveRejectedError(`member ${JSON.stringify(entry.fileName)} appears twice`);
        entries.set(entry.fileName, entry);
      }
    } catch (err) {
      if (err instanceof ArchiveRejectedError) throw err;
      throw new ArchiveRejectedError(`the zip directory is damaged: ${(err as Error).message}`);
    }

    const open = async (name: string): Promise<Readable> => {
      const entry = entries.get(name);
      if (!entry) throw new ArchiveRejectedError(`${name} is missing from the archive`);
      return zip.openReadStreamPromise(entry);
    };

    let manifest: BackupManifest;
    try {
      manifest = parseManifest((await readAll(await open("manifest.json"), MANIFEST_MAX_BYTES)).toString("utf8"));
    } catch (err) {
      if (err instanceof ArchiveRejectedError) throw err;
      if (err instanceof ManifestError) throw new ArchiveRejectedError(err.message);
      throw new ArchiveRejectedError(`manifest.json cannot be read: ${(err as Error).message}`);
    }
    if (manifest.tenant !== expectedTenant) {
      throw new ArchiveRejectedError(`this backup belongs to tenant ${JSON.stringify(manifest.tenant)}, not ${JSON.stringify(expectedTenant)}`);
    }

    // Exactly the members the manifest lists: a missing file would be lost, an extra one unchecked.
    const expected = new Map<string, FileDigest>([["dump.sql", manifest.dump]]);
    for (const [relative, digest] of Object.entries(manifest.filestore.files)) expected.set(`filestore/${relative}`, digest);
    for (const name of entries.keys()) {
      if (name === "manifest.json" || name === "filestore/" || (name.startsWith("filestore/") && name.endsWith("/"))) continue;
      if (!expected.has(name)) throw new ArchiveRejectedError(`member ${JSON.stringify(name)} is not listed in manifest.json`);
    }
    for (const name of expected.keys()) {
      if (!entries.has(name)) throw new ArchiveRejectedError(`${name} is listed in manifest.json but missing from the archive`);
    }

    const progress = new ProgressCounter("verifying", log);
    for (const [name, want] of expected) {
      let got: FileDigest;
      try {
        got = await digestOf(await open(name), (n) => progress.add(n));
      } catch (err) {
        throw new ArchiveRejectedError(`${name} is damaged: ${(err as Error).message}`);
      }
      if (got.size !== want.size || got.sha256 !== want.sha256) {
        throw new ArchiveRejectedError(
          `${name} does not match manifest.json (size ${got.size} vs ${want.size}, sha256 ${got.sha256.slice(0, 12)}… vs ${want.sha256.slice(0, 12)}…)`,
        );
      }
    }
    progress.finish(`checked in ${expected.size} members, all match manifest.json`);

    return {
      manifest,
      openDump: () => open("dump.sql"),
      filestoreFiles: () => Object.keys(manifest.filestore.files),
      openFilestoreFile: (relative) => open(`filestore/${relative}`),
      close: () => zip.close(),
    };
  } catch (err) {
    zip.close();
    throw err;
  }
}
