/**
 * An ingress STAND-IN for the api and browser suites, which run without a cluster: a real HTTP
 * server on 127.0.0.1 that answers GET /web/health with 200 for a host whose first label is a
 * tenant the test says is answering, and 404 otherwise (as Traefik does for a host without a
 * route). The server's real AddressCheckedReader requests it over HTTP, so the rule "ready only
 * when the public address answered" is exercised, not assumed. The node suite uses real Traefik.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export class IngressStandin {
  /** `answers(id)`: whether tenant id's address answers now. */
  constructor(private readonly answers: (tenantId: string) => boolean) {}

  private server: http.Server | undefined;
  private started: Promise<string> | undefined;

  /** Starts once; the base URL to give the server as its ingress URL. */
  url(): Promise<string> {
    this.started ??= new Promise((resolve, reject) => {
      const server = http.createServer((req, res) => {
        const id = (req.headers.host ?? "").split(".")[0] ?? "";
        const ok = req.method === "GET" && req.url === "/web/health" && this.answers(id);
        res.writeHead(ok ? 200 : 404, { "content-type": "text/plain" }).end(ok ? "ok (ingress stand-in)" : "404 page not found");
      });
      server.once("error", reject);
      // Shared by every server a test starts on this reading; it never keeps mocha alive.
      server.unref();
      server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
      this.server = server;
    });
    return this.started;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.started = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
