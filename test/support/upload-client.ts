// A client that sends an upload's body at the pace a test says (slow clients, bodies kept open),
// and reads the answer even when the server answers before the body is all sent.
import * as http from "node:http";

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: { error?: { code: string; message: string }; upload?: { id: string; state: string } };
  /** Milliseconds from the request's start. */
  ms: number;
}

export interface OpenUpload {
  write(bytes: Buffer): void;
  end(): void;
  /** Drops the connection mid-body, as a client that gives up. */
  destroy(): void;
  readonly answer: Promise<Answer>;
  /** The answer arrived (before the body ended, when the server refused early). */
  answered(): boolean;
}

/** Starts a POST; `contentLength` undefined: chunked. */
export function openUpload(base: string, urlPath: string, token: string, contentLength?: number, type = "application/zip"): OpenUpload {
  const started = Date.now();
  let done = false;
  const req = http.request(`${base}${urlPath}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": type, ...(contentLength !== undefined ? { "Content-Length": String(contentLength) } : {}) },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        done = true;
        const text = Buffer.concat(chunks).toString("utf8");
        try {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) as Answer["json"], ms: Date.now() - started });
        } catch {
          reject(new Error(`not JSON (HTTP ${res.statusCode}): ${text.slice(0, 200)}`));
        }
      });
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      // The server answered and closed while this side was still sending: the answer counts.
      if (err.code !== "EPIPE" && err.code !== "ECONNRESET") reject(err);
    });
  });
  answer.catch(() => undefined);
  req.flushHeaders();
  return {
    write: (bytes) => void req.write(bytes),
    end: () => req.end(),
    destroy: () => req.destroy(),
    answer,
    answered: () => done,
  };
}

/** Sends `body` in `chunk`-byte pieces every `everyMs`; resolves with the answer. */
export async function paced(upload: OpenUpload, body: Buffer, chunk: number, everyMs: number): Promise<Answer> {
  for (let at = 0; at < body.length && !upload.answered(); at += chunk) {
    upload.write(body.subarray(at, at + chunk));
    await new Promise((r) => setTimeout(r, everyMs));
  }
  if (!upload.answered()) upload.end();
  return upload.answer;
}
