// A pre-signed GET URL (AWS Signature Version 4, query-string form), so an owner's browser
// fetches an archive straight from S3 for a few minutes without ever seeing credentials.
// Written here with node:crypto because the SDK's presigner package is not a dependency; the
// algorithm is AWS's "Authenticating Requests: Using Query Parameters", checked against AWS's
// own published example in test/backup/s3-presign.test.ts.
import { createHash, createHmac } from "node:crypto";

export interface PresignCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface PresignGetInput {
  /** S3_ENDPOINT (e.g. `http://minio:9000`); undefined means AWS itself. */
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  bucket: string;
  key: string;
  credentials: PresignCredentials;
  /** 1 s to 7 days, as S3 allows. */
  expiresSeconds: number;
  now: Date;
  /** Extra signed query parameters, e.g. `response-content-disposition`. */
  query?: Record<string, string>;
}

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

function amzDate(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}

/** Where the object is: path style (`host/bucket/key`) or virtual-hosted (`bucket.host/key`). */
function objectLocation(input: PresignGetInput): { origin: string; host: string; path: string } {
  const encodedKey = input.key.split("/").map(rfc3986).join("/");
  const base = new URL(input.endpoint ?? `https://s3.${input.region}.amazonaws.com`);
  // A bucket name with dots cannot be a TLS host label: path style then, as the SDK does.
  const pathStyle = input.forcePathStyle || input.bucket.includes(".");
  const host = pathStyle ? base.host : `${input.bucket}.${base.host}`;
  const prefix = base.pathname.replace(/\/+$/, "");
  const path = pathStyle ? `${prefix}/${rfc3986(input.bucket)}/${encodedKey}` : `${prefix}/${encodedKey}`;
  return { origin: `${base.protocol}//${host}`, host, path };
}

export function presignGetUrl(input: PresignGetInput): string {
  if (!Number.isInteger(input.expiresSeconds) || input.expiresSeconds < 1 || input.expiresSeconds > 604_800) {
    throw new Error(`expiresSeconds must be an integer from 1 to 604800, not ${input.expiresSeconds}`);
  }
  const { origin, host, path } = objectLocation(input);
  const stamp = amzDate(input.now);
  const day = stamp.slice(0, 8);
  const scope = `${day}/${input.region}/s3/aws4_request`;
  const params = new Map<string, string>([
    ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
    ["X-Amz-Credential", `${input.credentials.accessKeyId}/${scope}`],
    ["X-Amz-Date", stamp],
    ["X-Amz-Expires", String(input.expiresSeconds)],
    ["X-Amz-SignedHeaders", "host"],
  ]);
  if (input.credentials.sessionToken !== undefined) params.set("X-Amz-Security-Token", input.credentials.sessionToken);
  for (const [name, value] of Object.entries(input.query ?? {})) params.set(name, value);
  const query = [...params]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonicalRequest = ["GET", path, query, `host:${host}`, "", "host", "UNSIGNED-PAYLOAD"].join("\n");
  const stringToSign = ["AWS4-HMAC-SHA256", stamp, scope, createHash("sha256").update(canonicalRequest, "utf8").digest("hex")].join("\n");
  let key = hmac(`AWS4${input.credentials.secretAccessKey}`, day);
  for (const part of [input.region, "s3", "aws4_request"]) key = hmac(key, part);
  const signature = createHmac("sha256", key).update(stringToSign, "utf8").digest("hex");
  return `${origin}${path}?${query}&X-Amz-Signature=${signature}`;
}
