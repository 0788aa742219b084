// Why an uploaded database is refused: a stable machine code for the API and page, and a message
// the customer can read. Messages name members of their own archive, never paths on our side.

export type RefusalCode =
  | "not_a_zip"
  | "unsupported_entry"
  | "unexpected_entry"
  | "missing_dump"
  | "missing_manifest"
  | "custom_format_dump"
  | "bad_manifest"
  | "version_mismatch"
  | "too_many_entries"
  | "dump_too_large"
  | "filestore_too_large"
  | "zip_bomb"
  | "path_traversal"
  | "name_too_long"
  | "path_too_deep"
  | "symlink"
  | "duplicate_entry"
  | "sql_meta_command"
  | "sql_forbidden_statement"
  | "sql_unsupported"
  | "truncated_dump"
  // Found by the restore step (restore-upload.ts), not by the archive checks:
  | "instance_not_empty"
  | "emptiness_unknown"
  | "load_failed";

export class UploadRefusedError extends Error {
  override readonly name = "UploadRefusedError";
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
  }
}

/** A member name as it may be shown to the customer: quoted, control characters escaped, shortened. */
export function shownName(name: string): string {
  const short = name.length > 120 ? `${name.slice(0, 117)}...` : name;
  return JSON.stringify(short);
}
