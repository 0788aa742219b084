// An S3-compatible store: `<S3_PREFIX>/<tenant>/<name>.zip`. Uploads are multipart (lib-storage),
// and S3 shows an object only after its upload completes, so a failed backup leaves at most an
// unfinished multipart upload, which list() reports as `incomplete` and delete() aborts.
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { Readable, Transform } from "node:stream";
import { assertSafeObjectName } from "../backup-name";
import { assertTenantId } from "../../tenants/tenant-id";
import { BackupNotFoundError, BackupStore, ObjectStatus, StoredObject } from "./backup-store";
import { presignGetUrl } from "./s3-presign";
import { purgeBelow, type PurgedBackups } from "./s3-purge";

export interface S3StoreOptions {
  client: S3Client;
  bucket: string;
  /** Platform-wide prefix (S3_PREFIX), without leading or trailing '/'; may be empty. */
  prefix: string;
  tenant: string;
  partSizeBytes: number;
  /** How URLs to the bucket are formed, for pre-signed downloads (the client's own settings). */
  addressing?: { endpoint?: string; region: string; forcePathStyle: boolean };
}

function isNotFound(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.name === "NoSuchKey" || err.name === "NotFound" || err.$metadata.httpStatusCode === 404);
}

export class S3BackupStore implements BackupStore {
  readonly tenant: string;
  readonly location: string;
  /** Every key this store touches starts with this. */
  readonly keyPrefix: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly partSizeBytes: number;
  private readonly addressing: S3StoreOptions["addressing"];

  constructor(options: S3StoreOptions) {
    this.tenant = assertTenantId(options.tenant);
    this.client = options.client;
    this.bucket = options.bucket;
    this.partSizeBytes = options.partSizeBytes;
    this.addressing = options.addressing;
    this.keyPrefix = `${options.prefix === "" ? "" : `${options.prefix}/`}${this.tenant}/`;
    this.location = `s3://${this.bucket}/${this.keyPrefix}`;
  }

  private key(name: string): string {
    return this.keyPrefix + assertSafeObjectName(name);
  }

  async put(name: string, body: Readable, onBytes?: (count: number) => void): Promise<{ size: number }> {
    const key = this.key(name);
    if (await this.exists(key)) throw new Error(`backup ${name} already exists in ${this.location}`);
    let size = 0;
    let bodyError: Error | undefined;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        onBytes?.(chunk.length);
        cb(null, chunk);
      },
    });
    body.on("error", (err: Error) => {
      bodyError ??= err;
      counter.destroy(err);
    });
    body.pipe(counter);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: counter, ContentType: "application/zip" },
      partSize: this.partSizeBytes,
      queueSize: 2,
      leavePartsOnError: false, // a failed upload is aborted, so no parts linger
    });
    try {
      await upload.done();
    } catch (err) {
      throw bodyError ?? err;
    }
    if (bodyError) throw bodyError;
    return { size };
  }

  /**
   * By listing, not HEAD: with credentials limited to the tenant's prefix, HEAD on a missing key
   * answers 403 rather than 404, while a prefix listing is exactly what those credentials allow.
   */
  private async exists(key: string): Promise<boolean> {
    const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: key, MaxKeys: 1 }));
    return (page.Contents ?? []).some((item) => item.Key === key);
  }

  /** A name directly below this tenant's prefix, or undefined for anything else. */
  private nameOf(key: string | undefined): string | undefined {
    if (key === undefined || !key.startsWith(this.keyPrefix)) return undefined;
    const name = key.slice(this.keyPrefix.length);
    try {
      return assertSafeObjectName(name);
    } catch {
      return undefined;
    }
  }

  async list(): Promise<StoredObject[]> {
    const objects: StoredObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.keyPrefix, ContinuationToken: token }),
      );
      for (const item of page.Contents ?? []) {
        const name = this.nameOf(item.Key);
        if (name !== undefined) objects.push({ name, status: "complete", size: item.Size ?? 0, modified: item.LastModified ?? new Date(0) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    for (const upload of await this.openUploads(this.keyPrefix)) {
      const name = this.nameOf(upload.key);
      if (name !== undefined) objects.push({ name, status: "incomplete", size: 0, modified: upload.initiated });
    }
    return objects;
  }

  private async openUploads(prefix: string): Promise<{ key: string; uploadId: string; initiated: Date }[]> {
    const uploads: { key: string; uploadId: string; initiated: Date }[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
      );
      for (const u of page.Uploads ?? []) {
        if (u.Key !== undefined && u.UploadId !== undefined) uploads.push({ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated ?? new Date(0) });
      }
      if (!page.IsTruncated) return uploads;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  async getStream(name: string): Promise<Readable> {
    try {
      const result = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(name) }));
      return result.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw new BackupNotFoundError(`backup ${name} not found in ${this.location}`);
      throw err;
    }
  }

  /**
   * A URL that GETs `name` without credentials until it expires, offered as a download of that
   * file name. Signed with this client's credentials: they must be allowed s3:GetObject there.
   */
  async presignedGet(name: string, expiresSeconds: number, now = new Date()): Promise<string> {
    if (this.addressing === undefined) throw new Error("this S3 store was opened without addressing; it cannot pre-sign URLs");
    const credentials = await this.client.config.credentials();
    return presignGetUrl({
      ...this.addressing,
      bucket: this.bucket,
      key: this.key(name),
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        ...(credentials.sessionToken !== undefined ? { sessionToken: credentials.sessionToken } : {}),
      },
      expiresSeconds,
      now,
      query: { "response-content-disposition": `attachment; filename="${assertSafeObjectName(name)}"` },
    });
  }

  /** Tenant purge: everything below this tenant's prefix, unfinished uploads included (s3-purge.ts). */
  purgeAll(): Promise<PurgedBackups> {
    return purgeBelow(this.client, this.bucket, this.keyPrefix);
  }

  async delete(name: string, status: ObjectStatus = "complete"): Promise<void> {
    const key = this.key(name);
    if (status === "complete") {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
      return;
    }
    for (const upload of await this.openUploads(key)) {
      if (upload.key !== key) continue;
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: upload.uploadId }));
    }
  }
}
