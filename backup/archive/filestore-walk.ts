import { Dirent, promises as fsp } from "node:fs";
import * as path from "node:path";
import { LogFn } from "../progress";

export interface FilestoreFile {
  /** Path below the filestore folder, '/'-separated: the name inside `filestore/` in the zip. */
  relative: string;
  absolute: string;
}

/**
 * Regular files below `root`, depth first in name order (so archives are reproducible).
 * Symbolic links and special files are skipped and reported: Odoo's filestore has none, and
 * following links could pull in files from outside the tenant's folder.
 */
export async function* walkFilestore(root: string, log: LogFn): AsyncGenerator<FilestoreFile> {
  async function* walk(dir: string, prefix: string): AsyncGenerator<FilestoreFile> {
    let entries: Dirent[];
    try {
      entries = await fsp.readdir(dir, { withFileTypes: true });
    } catch (err) {
      // The root missing means "no attachments yet"; a sub-folder vanishing means Odoo's
      // garbage collector removed it while we walked.
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const absolute = path.join(dir, entry.name);
      const relative = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      if (entry.name.includes("\\")) log(`skipping ${JSON.stringify(relative)}: a '\\' cannot be stored in a zip name`);
      else if (entry.isDirectory()) yield* walk(absolute, relative);
      else if (entry.isFile()) yield { relative, absolute };
      else log(`skipping ${JSON.stringify(relative)}: not a regular file`);
    }
  }
  yield* walk(root, "");
}
