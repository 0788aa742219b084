/**
 * A command's stdout over the pods/exec API as a Readable, with back-pressure. The exec client
 * (@kubernetes/client-node) writes every stdout frame it receives into the Writable it is
 * given and ignores write()'s answer, so a download to a slow browser would pile the whole
 * archive up in server memory. It is given a BackpressureGate instead: the gate forwards into
 * the body and pauses the WebSocket (and so the TCP connection to the API server) while the
 * body holds more than its highWaterMark, resuming it on `drain`, as the upload path waits for
 * `drain` before reading more of the request.
 */
import { Exec, type KubeConfig, type V1Status } from "@kubernetes/client-node";
import { PassThrough, Writable, type Readable } from "node:stream";

/** What the gate pauses: the exec's WebSocket (ws: pause() stops reading its socket). */
export interface Pausable {
  pause(): void;
  resume(): void;
}

export class BackpressureGate extends Writable {
  private source: Pausable | undefined;
  private paused = false;

  constructor(private readonly out: PassThrough) {
    super();
  }

  /** The producer, once it exists (the socket opens after the first frames may have been written). */
  attach(source: Pausable): void {
    this.source = source;
    if (this.out.writableNeedDrain) this.hold();
  }

  private hold(): void {
    if (this.paused) return;
    this.paused = true;
    this.source?.pause();
    this.out.once("drain", () => {
      this.paused = false;
      this.source?.resume();
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // The reader went away: drop what still arrives until the socket closes.
    if (!this.out.destroyed && !this.out.write(chunk)) this.hold();
    callback();
  }

  // Ending is not the gate's decision: the exec's status says whether the output is complete.
  override _final(callback: (error?: Error | null) => void): void {
    callback();
  }
}

export interface ExecTarget {
  namespace: string;
  pod: string;
  container: string;
}

export interface ExecStreamOptions {
  /** How long the command may take to send its first byte. */
  firstByteTimeoutMs: number;
  /** Called once when the stream is over, however it ended (the reader Job is removed there). */
  onEnd: () => void;
  /** The body's buffer (default 64 KiB): the most held in memory before the socket is paused. */
  highWaterMark?: number;
}

/**
 * Resolves with stdout once the first byte arrived, or undefined when the command ended
 * unsuccessfully before writing anything (the caller's "not there"); rejects when the exec
 * cannot start or stays silent. After the first byte, a failure breaks the stream off with an
 * error, so a browser sees a failed download, never a complete-looking short one.
 */
export function execStream(kc: KubeConfig, target: ExecTarget, command: string[], options: ExecStreamOptions): Promise<Readable | undefined> {
  const body = new PassThrough({ highWaterMark: options.highWaterMark ?? 64 * 1024 });
  const gate = new BackpressureGate(body);
  const stderr = new PassThrough();
  stderr.resume();
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    options.onEnd();
  };
  const where = `${target.namespace}/${target.pod}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (value: Readable | undefined, error?: Error): void => {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve(value);
    };
    body.once("readable", () => settle(body));
    // An exec that neither writes nor ends (a node that never answers) must not hold the request forever.
    const silence = setTimeout(() => {
      body.destroy();
      settle(undefined, new Error(`no answer from ${where} within ${options.firstByteTimeoutMs} ms`));
      end();
    }, options.firstByteTimeoutMs);
    body.once("readable", () => clearTimeout(silence));
    body.once("close", () => clearTimeout(silence));
    let finished = false;
    const done = (status: V1Status): void => {
      finished = true;
      if (status.status === "Success") {
        body.end();
        if (!settled) settle(body); // an empty output cannot be an archive, but stay honest
      } else if (!settled) {
        body.destroy();
        settle(undefined);
      } else body.destroy(new Error(`the command in ${where} broke off: ${status.message ?? status.reason ?? "unknown"}`));
      end();
    };
    new Exec(kc)
      .exec(target.namespace, target.pod, target.container, command, gate, stderr, null, false, done)
      .then((socket) => {
        const ws = socket as unknown as Pausable & { terminate(): void; once(event: "close", listener: () => void): void };
        gate.attach(ws);
        // Closed without a status (the API server went away): not complete, whatever arrived.
        ws.once("close", () => {
          if (finished) return;
          clearTimeout(silence);
          const error = new Error(`the connection to ${where} closed before the command ended`);
          if (settled) body.destroy(error);
          else {
            body.destroy();
            settle(undefined, error);
          }
          end();
        });
        // The browser went away: drop the connection at once (a paused socket would not read
        // the answer to a polite close, holding it for ws's 30 s close timeout), and end.
        body.on("close", () => {
          ws.terminate();
          end();
        });
      })
      .catch((err: unknown) => {
        clearTimeout(silence);
        settle(undefined, err instanceof Error ? err : new Error(String(err)));
        end();
      });
  });
}
