// Streams the members of an upload that checkUploadedArchive accepted: dump.sql and the files
// below filestore/. Names were judged by the checks (zip-entries.ts); they are judged again here
// by the same functions, so this module never trusts a file it did not see checked.
import { Readable } from "node:stream";
import * as yauzl from "yauzl";
import { classify, decodeName } from "./zip-entries";

export interface UploadArchive {
  openDump(): Promise<Readable>;
  /** Paths below filestore/ ("ab/abcdef..."), files only. */
  filestoreFiles(): string[];
  openFilestoreFile(relative: string): Promise<Readable>;
  close(): void;
}

export async function openUploadArchive(zipPath: string): Promise<UploadArchive> {
  const zip = await yauzl.openPromise(zipPath, { autoClose: false, lazyEntries: true, validateEntrySizes: true, decodeStrings: false });
  try {
    let dump: yauzl.Entry | undefined;
    const files = new Map<string, yauzl.Entry>();
    for await (const entry of zip.eachEntry()) {
      const name = decodeName(entry);
      const kind = classify(entry, name);
      if (kind === "dump") dump = entry;
      else if (kind === "filestore-file") files.set(name.slice("filestore/".length), entry);
    }
    if (dump === undefined) throw new Error("dump.sql is missing from the archive");
    const dumpEntry = dump;
    return {
      openDump: () => zip.openReadStreamPromise(dumpEntry),
      filestoreFiles: () => [...files.keys()],
      openFilestoreFile: (relative) => {
        const entry = files.get(relative);
        if (entry === undefined) return Promise.reject(new Error(`filestore/${relative} is not in the archive`));
        return zip.openReadStreamPromise(entry);
      },
      close: () => zip.close(),
    };
  } catch (err) {
    zip.close();
    throw err;
  }
}
