/**
 * What an upload may take from this server beyond its plan, decided from its headers before a
 * byte of its body is read:
 * - a slot: at most `perServer` uploads received or restored at once by this process (each holds
 *   a file on the upload disk, a socket and a restore's stream), else 429 with Retry-After;
 * - room: the upload folder's file system must keep `diskMarginBytes` free after the upload's
 *   largest possible size (its Content-Length, else the plan's limit) and what the other uploads
 *   of this process reserved (their full size, however much has arrived: conservative), else 507;
 * - a deadline: its size at `minBytesPerSecond`, after `graceMs` (uploadDeadline);
 * - where the restorer can observe it from here, that the instance is new or empty (refuseIfInUse).
 * The per-user and per-instance limits are the records' (records/upload-records.ts), across servers.
 */
import { promises as fsp } from "node:fs";
import { ApiError } from "./api-error";
import type { Logger } from "./log";
import type { UploadSettings } from "./server-config";
import type { UploadRestorer } from "./upload-restorer";

/** When a refused upload may try again, in seconds (Retry-After). */
export const RETRY_AFTER_BUSY_S = 60;
export const RETRY_AFTER_NO_ROOM_S = 600;

export function serverBusy(): ApiError {
  return new ApiError(429, "uploads_busy", "many databases are being uploaded right now; nothing was changed, please try again in a minute", undefined, { "Retry-After": String(RETRY_AFTER_BUSY_S) });
}

export function userBusy(perUser: number): ApiError {
  return new ApiError(
    429, "too_many_uploads",
    `you already have ${perUser} database ${perUser === 1 ? "upload" : "uploads"} in progress; nothing was changed, please wait until one of them is finished`,
    undefined, { "Retry-After": String(RETRY_AFTER_BUSY_S) },
  );
}

function noRoom(): ApiError {
  return new ApiError(507, "no_room_for_upload", "we have no room for a file this large right now; nothing was changed, please try again later", undefined, { "Retry-After": String(RETRY_AFTER_NO_ROOM_S) });
}

/** Milliseconds an upload of at most `bytes` may take to arrive. */
export function uploadDeadlineMs(bytes: number, settings: UploadSettings): number {
  return settings.graceMs + Math.ceil((bytes / settings.minBytesPerSecond) * 1000);
}

export class UploadSlots {
  private active = 0;
  private reserved = 0;

  constructor(private readonly settings: UploadSettings, private readonly dir: string) {}

  /** Takes a slot and reserves room for `bytes`; the returned function gives both back (once). */
  async take(bytes: number): Promise<() => void> {
    if (this.active >= this.settings.perServer) throw serverBusy();
    const stats = await fsp.statfs(this.dir);
    // Decided after the await in one synchronous step, so two uploads cannot both count the same room.
    if (this.active >= this.settings.perServer) throw serverBusy();
    const free = stats.bavail * stats.bsize;
    if (free - this.reserved - bytes < this.settings.diskMarginBytes) throw noRoom();
    this.active++;
    this.reserved += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.reserved -= bytes;
    };
  }

  get inUse(): number {
    return this.active;
  }
}

/** An instance in use is refused before the body is read, when the restorer can observe it from here. */
export async function refuseIfInUse(restorer: UploadRestorer, tenant: string, log: Logger): Promise<void> {
  if (!restorer.emptiness) return;
  let seen;
  try {
    seen = await restorer.emptiness(tenant);
  } catch (err) {
    log.log("warn", "uploads: emptiness not observed", { tenant, detail: (err as Error).message.split("\n")[0] ?? "" });
    throw new ApiError(503, "emptiness_unknown", "we could not check that your instance is empty, so nothing was changed; please try again later");
  }
  if (!seen.empty) {
    throw new ApiError(409, "instance_not_empty", `a database can only be uploaded to a new or empty instance, and this one is in use (${seen.why}); nothing was changed`);
  }
}
