// The member list of an uploaded zip, checked from the central directory alone (nothing is
// decompressed here): names are decoded by us (yauzl's own decoding is switched off so that a
// hostile name is refused with our code instead of a library message), each name must be a plain
// relative path inside the layout Odoo's database manager writes, and file types other than
// regular files and folders are refused.
import * as yauzl from "yauzl";
import { UploadRefusedError, shownName } from "./refusal";

export type MemberKind = "dump" | "manifest" | "filestore-file" | "folder";

export interface Member {
  name: string;
  kind: MemberKind;
  entry: yauzl.Entry;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const UTF8_FLAG = 0x800;
const ENCRYPTED_FLAG = 0x1;
const INFO_ZIP_UNICODE_PATH = 0x7075;
const STORED = 0;
const DEFLATED = 8;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Name limits, judged before anything else is done with a name (so a hostile name costs time and
 * memory in proportion to its length, once). Odoo writes at most `filestore/checklist/<2 hex>/<40
 * hex sha1>` (63 bytes, 4 segments; attachments are `filestore/<2 hex>/<40 hex>`), so these leave
 * a wide margin for any Odoo layout while staying far inside Linux's limits where the restore
 * writes the files (`<filestore parent>/.<db>.upload-<ts>/<name>`, a prefix of at most ~300 bytes):
 * - a whole name at most 1024 bytes: 16 times Odoo's longest, and with the prefix a quarter of
 *   PATH_MAX (4096);
 * - a segment at most 255 bytes: NAME_MAX of Linux file systems (ext4, xfs); a longer one could
 *   not be created anyway;
 * - at most 16 segments: four times Odoo's deepest.
 */
export const MAX_NAME_BYTES = 1024;
export const MAX_SEGMENT_BYTES = 255;
export const MAX_NAME_DEPTH = 16;

/** The entry's name; refused unless it is valid UTF-8 (or plain ASCII, as Odoo writes). */
export function decodeName(entry: yauzl.Entry): string {
  const raw = entry.fileNameRaw;
  if (raw.length > MAX_NAME_BYTES) {
    const shown = shownName(raw.subarray(0, 200).toString("latin1"));
    throw new UploadRefusedError("name_too_long", `member ${shown} has a name of ${raw.length} bytes; an Odoo backup's names are at most ${MAX_NAME_BYTES} bytes long`);
  }
  const isAscii = raw.every((b) => b < 0x80);
  if (!isAscii && (entry.generalPurposeBitFlag & UTF8_FLAG) === 0) {
    throw new UploadRefusedError("unsupported_entry", "the archive has a member whose name is not UTF-8 encoded");
  }
  let name: string;
  try {
    name = utf8.decode(raw);
  } catch {
    throw new UploadRefusedError("unsupported_entry", "the archive has a member whose name is not valid UTF-8");
  }
  // Other unzip tools prefer this field's name over the header's: refuse rather than check one
  // name and extract another.
  if (entry.extraFields.some((f) => f.id === INFO_ZIP_UNICODE_PATH)) {
    throw new UploadRefusedError("unsupported_entry", `member ${shownName(name)} carries a second, alternative name`);
  }
  return name;
}

/** Refuses names that could land outside the folder they are extracted into. */
export function checkPath(name: string): void {
  const bad = (why: string) => new UploadRefusedError("path_traversal", `member ${shownName(name)} ${why}`);
  if (name.length === 0) throw bad("has an empty name");
  if (name.includes("\0")) throw bad("has a NUL character in its name");
  if (name.includes("\\")) throw bad("has a backslash in its name");
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) throw bad("has an absolute path");
  // Also called on names that did not come through decodeName (cheap: the length is known).
  if (Buffer.byteLength(name, "utf8") > MAX_NAME_BYTES) {
    throw new UploadRefusedError("name_too_long", `member ${shownName(name)} has a name longer than ${MAX_NAME_BYTES} bytes; an Odoo backup's names are much shorter`);
  }
  const segments = (name.endsWith("/") ? name.slice(0, -1) : name).split("/");
  if (segments.length > MAX_NAME_DEPTH) {
    throw new UploadRefusedError("path_too_deep", `member ${shownName(name)} is ${segments.length} folders deep; an Odoo backup's files are at most ${MAX_NAME_DEPTH} deep`);
  }
  if (segments.some((s) => Buffer.byteLength(s, "utf8") > MAX_SEGMENT_BYTES)) {
    throw new UploadRefusedError("name_too_long", `member ${shownName(name)} has a file or folder name longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  if (segments.includes("..")) throw bad("climbs out of its folder (..)");
  if (segments.some((s) => s === "" || s === ".")) throw bad("has an empty or '.' path segment");
}

function unixFileType(entry: yauzl.Entry): number {
  return ((entry.externalFileAttributes >>> 16) & S_IFMT) >>> 0;
}

/** Classifies one member and refuses anything outside Odoo's layout. */
export function classify(entry: yauzl.Entry, name: string): MemberKind {
  checkPath(name);
  const type = unixFileType(entry);
  if (type === S_IFLNK) throw new UploadRefusedError("symlink", `member ${shownName(name)} is a symbolic link; only regular files are accepted`);
  const isFolder = name.endsWith("/");
  if (type !== 0 && type !== S_IFREG && !(isFolder && type === S_IFDIR)) {
    throw new UploadRefusedError("unsupported_entry", `member ${shownName(name)} is not a regular file or folder`);
  }
  if ((entry.generalPurposeBitFlag & ENCRYPTED_FLAG) !== 0) {
    throw new UploadRefusedError("unsupported_entry", `member ${shownName(name)} is encrypted; upload an archive without a password`);
  }
  if (entry.compressionMethod !== STORED && entry.compressionMethod !== DEFLATED) {
    throw new UploadRefusedError("unsupported_entry", `member ${shownName(name)} uses a compression method other than deflate`);
  }
  if (name === "dump.sql") return "dump";
  if (name === "manifest.json") return "manifest";
  if (name === "filestore/") return "folder";
  if (name.startsWith("filestore/")) return isFolder ? "folder" : "filestore-file";
  if (/^dump\.dump$|\.dump$|^toc\.dat$/i.test(name)) {
    throw new UploadRefusedError(
      "custom_format_dump",
      `the archive holds ${shownName(name)}, a PostgreSQL custom-format dump; a plain SQL dump (dump.sql, as Odoo's "zip" backup format writes) is needed`,
    );
  }
  throw new UploadRefusedError(
    "unexpected_entry",
    `member ${shownName(name)} is not part of an Odoo database backup (expected only dump.sql, manifest.json and filestore/)`,
  );
}

/** A folder's children by segment; a file is `null` (it has none). */
type Folder = Map<string, FolderNode | null>;
interface FolderNode {
  /** Named by a member of its own ("a/"), not only as a parent of others. */
  listed: boolean;
  children: Folder;
}

/**
 * Refuses the same name twice, and a name used both as a file and as a folder (one would hide or
 * replace the other on extraction). The names are kept as a tree of segments, so each member
 * costs time and memory in proportion to its own length (not to the sum of its parents' names).
 */
export class NameRegistry {
  private readonly root: Folder = new Map();

  add(name: string): void {
    const isFolder = name.endsWith("/");
    const segments = (isFolder ? name.slice(0, -1) : name).split("/");
    const dup = () => new UploadRefusedError("duplicate_entry", `member ${shownName(name)} appears more than once in the archive`);
    let folder = this.root;
    for (const segment of segments.slice(0, -1)) {
      let child = folder.get(segment);
      if (child === null) throw dup();
      if (child === undefined) {
        child = { listed: false, children: new Map() };
        folder.set(segment, child);
      }
      folder = child.children;
    }
    const last = segments[segments.length - 1] as string;
    const existing = folder.get(last);
    if (isFolder) {
      if (existing === undefined) folder.set(last, { listed: true, children: new Map() });
      else if (existing === null || existing.listed) throw dup();
      else existing.listed = true;
    } else {
      if (existing !== undefined) throw dup();
      folder.set(last, null);
    }
  }
}
