import { createHash, Hash } from "node:crypto";
import { Transform, TransformCallback } from "node:stream";

export interface FileDigest {
  size: number;
  sha256: string;
}

/** Passes bytes through unchanged while counting them and computing their SHA-256. */
export class HashingStream extends Transform {
  private readonly hash: Hash = createHash("sha256");
  private bytes = 0;
  private result: FileDigest | undefined;

  constructor(private readonly onBytes?: (count: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.onBytes?.(chunk.length);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.result = { size: this.bytes, sha256: this.hash.digest("hex") };
    callback();
  }

  /** Available once all input has passed through. */
  digest(): FileDigest {
    if (!this.result) throw new Error("digest requested before the stream ended");
    return this.result;
  }
}
