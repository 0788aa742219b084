/**
 * Purge of one tenant's backups in S3: every object below `<prefix>/<id>/` (whatever its name,
 * not only names the backup tool makes), every version of them in a versioned bucket, and
 * every unfinished multipart upload, then a check that nothing is left.
 *
 * Why delete rather than key backups by an id that is never reused: tenant ids are names
 * customers choose and see in their URL, and purge exists to make an id free again; the
 * backup Job, the owner's listing and the per-prefix credentials all address `<prefix>/<id>/`.
 * A never-reused key (a generation suffix) would have to be threaded through all of them and
 * would still leave a purged customer's archives in the bucket, which purge promises to
 * destroy. So purge deletes, and frees the id only once the prefix is empty.
 */
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  S3ServiceException,
  type S3Client,
} from "@aws-sdk/client-s3";

export interface PurgedBackups {
  objects: number;
  /** Older versions and delete markers (versioned buckets only). */
  versions: number;
  uploads: number;
}

/** Some S3-compatible servers have no versioning API; their objects have no older versions. */
function noVersioning(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.name === "NotImplemented" || err.$metadata.httpStatusCode === 501);
}

async function deleteObjects(client: S3Client, bucket: string, prefix: string): Promise<number> {
  let count = 0;
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const item of page.Contents ?? []) {
      if (item.Key === undefined || !item.Key.startsWith(prefix)) continue;
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: item.Key }));
      count++;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return count;
}

async function deleteVersions(client: S3Client, bucket: string, prefix: string): Promise<number> {
  let count = 0;
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (;;) {
    let page;
    try {
      page = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
    } catch (err) {
      if (noVersioning(err)) return count;
      throw err;
    }
    for (const item of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) {
      // "null" is the one version of an object written while versioning was off: deleted above.
      if (item.Key === undefined || !item.Key.startsWith(prefix) || item.VersionId === undefined || item.VersionId === "null") continue;
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: item.Key, VersionId: item.VersionId }));
      count++;
    }
    if (!page.IsTruncated) return count;
    keyMarker = page.NextKeyMarker;
    versionMarker = page.NextVersionIdMarker;
  }
}

async function abortUploads(client: S3Client, bucket: string, prefix: string): Promise<number> {
  let count = 0;
  // Aborting removes the upload from the listing, so each pass starts again from the top.
  for (;;) {
    const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
    const uploads = (page.Uploads ?? []).filter((u) => u.Key !== undefined && u.Key.startsWith(prefix) && u.UploadId !== undefined);
    if (uploads.length === 0) return count;
    for (const u of uploads) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
      count++;
    }
  }
}

/** What is still below the prefix: objects and unfinished uploads (0 and 0 after a purge). */
export async function remainingBelow(client: S3Client, bucket: string, prefix: string): Promise<{ objects: number; uploads: number }> {
  const objects = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 }));
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, MaxUploads: 1 }));
  return { objects: objects.KeyCount ?? objects.Contents?.length ?? 0, uploads: uploads.Uploads?.length ?? 0 };
}

/**
 * Deletes everything below `prefix` (which must end with "/", so `acme/` never reaches
 * `acme-2/`), then checks: throws when anything is left (e.g. an upload finished meanwhile).
 */
export async function purgeBelow(client: S3Client, bucket: string, prefix: string): Promise<PurgedBackups> {
  if (!prefix.endsWith("/") || prefix === "/") throw new Error(`refusing to purge below "${prefix}": not one tenant's prefix`);
  const uploads = await abortUploads(client, bucket, prefix);
  const objects = await deleteObjects(client, bucket, prefix);
  const versions = await deleteVersions(client, bucket, prefix);
  const left = await remainingBelow(client, bucket, prefix);
  if (left.objects > 0 || left.uploads > 0) {
    throw new Error(`s3://${bucket}/${prefix} still holds ${left.objects > 0 ? "objects" : "unfinished uploads"} after deleting; a backup may be running`);
  }
  return { objects, versions, uploads };
}
