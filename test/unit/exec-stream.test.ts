/**
 * The exec stream of owner downloads (automation/exec-stream.ts) with the real exec client of
 * @kubernetes/client-node against a local WebSocket server that speaks the pods/exec protocol
 * (stdout frames on channel 1, the status on channel 3) as fast as TCP lets it, and a slow
 * HTTP client downloading through `pipeline`, as the download route does: what the server
 * holds stays within a few highWaterMarks while megabytes flow. The same source written into
 * a plain PassThrough (what the exec client did before) piles up megabytes: the measurement
 * can fail.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Exec, KubeConfig } from "@kubernetes/client-node";
import { expect } from "chai";
import { execStream } from "../../automation/exec-stream";

interface ServerSocket {
  send(data: Buffer, cb: (err?: Error) => void): void;
  close(): void;
  on(event: "close", listener: () => void): void;
}
interface WsServer {
  on(event: "connection", listener: (ws: ServerSocket) => void): void;
  close(): void;
}
const { WebSocketServer } = createRequire(__filename)("ws") as { WebSocketServer: new (options: { server: http.Server }) => WsServer };

const MiB = 1024 * 1024;
const FRAME = 64 * 1024;

/** A stand-in API server whose every exec writes `total` bytes of stdout, then the given status. */
async function execServer(total: number, status: "Success" | "Failure", prefixBytes = total): Promise<{ kc: KubeConfig; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server });
  const send = (ws: ServerSocket, frame: Buffer): Promise<void> => new Promise((resolve, reject) => ws.send(frame, (err) => (err ? reject(err) : resolve())));
  wss.on("connection", (ws) => {
    let closed = false;
    ws.on("close", () => (closed = true));
    void (async () => {
      const payload = Buffer.alloc(FRAME, 0x5a);
      for (let sent = 0; sent < Math.min(total, prefixBytes) && !closed; sent += FRAME) {
        // Each frame waits only for the socket to take it: as fast as the reader lets TCP go.
        await send(ws, Buffer.concat([Buffer.from([1]), payload.subarray(0, Math.min(FRAME, total - sent))]));
      }
      if (!closed) await send(ws, Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify({ status, message: status === "Failure" ? "exit code 1" : undefined }))]));
    })().catch(() => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "local", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "reader", token: "not-checked" }],
    contexts: [{ name: "local", cluster: "local", user: "reader" }],
    currentContext: "local",
  });
  return {
    kc,
    close: () => new Promise((resolve) => {
      wss.close();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * Serves `body` over HTTP as the download route does (pipeline into the response) to a client
 * that reads 64 KiB every `everyMs`; samples what the server holds in the body and the
 * response. Resolves with the bytes received and the most held at once.
 */
async function slowDownload(body: Readable, everyMs: number): Promise<{ received: number; maxHeld: number }> {
  let res: http.ServerResponse | undefined;
  const server = http.createServer((_req, response) => {
    res = response;
    void pipeline(body, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  let maxHeld = 0;
  const sampler = setInterval(() => {
    const held = body.readableLength + ((body as PassThrough).writableLength ?? 0) + (res?.writableLength ?? 0);
    maxHeld = Math.max(maxHeld, held);
  }, 1);
  try {
    const received = await new Promise<number>((resolve, reject) => {
      http.get(`http://127.0.0.1:${port}/`, (incoming) => {
        let n = 0;
        incoming.on("readable", function read() {
          const chunk = incoming.read(FRAME) as Buffer | null;
          if (chunk === null) return;
          n += chunk.length;
          incoming.off("readable", read);
          setTimeout(() => {
            incoming.on("readable", read);
            read();
          }, everyMs);
        });
        incoming.on("end", () => resolve(n));
        incoming.on("error", reject);
      }).on("error", reject);
    });
    return { received, maxHeld };
  } finally {
    clearInterval(sampler);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const target = { namespace: "tenant-acme", pod: "reader", container: "backup" };

describe("exec stream of downloads: back-pressure (real exec client, local exec server)", function () {
  this.timeout(60_000);

  it("holds a few highWaterMarks while 16 MiB go to a slow client, and ends the stream once", async () => {
    const api = await execServer(16 * MiB, "Success");
    let ended = 0;
    try {
      const body = await execStream(api.kc, target, ["cat", "x.zip"], { firstByteTimeoutMs: 10_000, onEnd: () => ended++ });
      expect(body).to.not.equal(undefined);
      const { received, maxHeld } = await slowDownload(body as Readable, 4);
      expect(received).to.equal(16 * MiB);
      expect(maxHeld, `held at most ${maxHeld} bytes`).to.be.below(8 * FRAME);
      expect(ended).to.equal(1);
    } finally {
      await api.close();
    }
  });

  it("(the same source into a plain PassThrough, as before: megabytes pile up)", async () => {
    const api = await execServer(16 * MiB, "Success");
    try {
      const body = new PassThrough();
      await new Exec(api.kc).exec(target.namespace, target.pod, target.container, ["cat"], body, new PassThrough().resume(), null, false);
      const { received, maxHeld } = await slowDownload(body, 4);
      expect(received).to.equal(16 * MiB);
      expect(maxHeld).to.be.above(4 * MiB);
    } finally {
      await api.close();
    }
  });

  it("a command that fails before writing is 'not there' (undefined), and ends once", async () => {
    const api = await execServer(0, "Failure");
    let ended = 0;
    try {
      expect(await execStream(api.kc, target, ["cat", "gone.zip"], { firstByteTimeoutMs: 10_000, onEnd: () => ended++ })).to.equal(undefined);
      expect(ended).to.equal(1);
    } finally {
      await api.close();
    }
  });

  it("a command that fails midway breaks the stream off with an error: never a complete-looking short file", async () => {
    const api = await execServer(2 * MiB, "Failure");
    try {
      const body = await execStream(api.kc, target, ["cat", "x.zip"], { firstByteTimeoutMs: 10_000, onEnd: () => undefined });
      let n = 0;
      const outcome = await new Promise<string>((resolve) => {
        body?.on("data", (c: Buffer) => (n += c.length));
        body?.on("end", () => resolve("end"));
        body?.on("error", (err) => resolve(`error: ${err.message}`));
      });
      expect(outcome).to.match(/^error: .*broke off/);
      expect(n).to.be.at.most(2 * MiB);
    } finally {
      await api.close();
    }
  });

  it("a reader that goes away closes the exec socket and ends once", async () => {
    const api = await execServer(64 * MiB, "Success");
    let ended = 0;
    try {
      const body = await execStream(api.kc, target, ["cat", "x.zip"], { firstByteTimeoutMs: 10_000, onEnd: () => ended++ });
      body?.destroy();
      await new Promise((r) => setTimeout(r, 200));
      expect(ended).to.equal(1);
    } finally {
      await api.close();
    }
  });
});
