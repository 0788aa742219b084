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

/** The entry's name; refused unless it is valid UTF-8 (or plain ASCII, as Odoo writes). */
export function decodeName(entry: yauzl.Entry): string {
  const raw = entry.fileNameRaw;
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
  const segments = (name.endsWith("/") ? name.slice(0, -1) : name).split("/");
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

/**
 * Refuses the same name twice, and a name used both as a file and as a folder (one would hide or
 * replace the other on extraction).
 */
export class NameRegistry {
  private readonly files = new Set<string>();
  private readonly folders = new Set<string>();
  private readonly names = new Set<string>();

  add(name: string): void {
    const isFolder = name.endsWith("/");
    const path = isFolder ? name.slice(0, -1) : name;
    const dup = () => new UploadRefusedError("duplicate_entry", `member ${shownName(name)} appears more than once in the archive`);
    if (this.names.has(name)) throw dup();
    this.names.add(name);
    if (isFolder) {
      if (this.files.has(path)) throw dup();
    } else {
      if (this.files.has(path) || this.folders.has(path)) throw dup();
      this.files.add(path);
    }
    const segments = path.split("/");
    for (let i = 1; i < (isFolder ? segments.length + 1 : segments.length); i++) {
      const parent = segments.slice(0, i).join("/");
      if (this.files.has(parent)) throw dup();
      this.folders.add(parent);
    }
  }
}
