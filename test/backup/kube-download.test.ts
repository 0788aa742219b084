/**
 * Owner downloads through the tenant's CronJob (KubernetesBackupAccess) against the small fake
 * API server of k8s-orchestration.test.ts: the listing decides before any reader Job exists
 * (none for an unknown or unfinished name, a HEAD or a link), each download's Job has its own
 * name, and a name taken all the same (409 AlreadyExists) is drawn again. The fake speaks no
 * WebSocket, so each exec fails and its reader Job must be deleted; the streaming itself is
 * tested in test/unit/exec-stream.test.ts.
 */
import { expect } from "chai";
import type { KubeConfig } from "@kubernetes/client-node";
import { KubernetesBackupAccess } from "../../automation/kube-backup-access";
import { FakeApi } from "./k8s-orchestration.test";

const BACKUP = "acme-20240501T020000Z-scheduled.zip";
const UNFINISHED = "acme-20240502T020000Z-scheduled.zip";

describe("owner downloads through the CronJob (fake API server)", function () {
  this.timeout(30_000);
  let api: FakeApi;
  let kc: KubeConfig;

  beforeEach(async () => {
    api = new FakeApi();
    api.stored = [{ name: BACKUP, status: "complete" }, { name: UNFINISHED, status: "incomplete" }];
    kc = await api.start();
  });
  afterEach(() => api.stop());

  const created = (action: string): string[] => api.calls
    .filter((c) => c.method === "POST" && c.body?.metadata?.labels?.["odoo-saas.io/backup-action"] === action)
    .map((c) => c.body.metadata.name as string);
  const deleted = (): string[] => api.calls.filter((c) => c.method === "DELETE").map((c) => c.path.split("/jobs/")[1]?.split("?")[0] ?? "").filter((name) => name.includes("-download-"));
  /** The reader Job is deleted in the background: wait for it a little. */
  const deletedSoon = async (count: number): Promise<string[]> => {
    for (let i = 0; i < 100 && deleted().length < count; i++) await new Promise((r) => setTimeout(r, 20));
    return deleted();
  };
  const access = (): KubernetesBackupAccess => new KubernetesBackupAccess(kc, { pollMs: 5, startTimeoutMs: 5_000, firstByteTimeoutMs: 5_000 });

  it("starts no reader Job for an unknown or unfinished name, a HEAD or a link; one shared listing answers them all", async () => {
    const reader = access();
    expect(await reader.download("acme", "acme-20240101T020000Z-scheduled.zip", "content")).to.equal(undefined);
    expect(await reader.download("acme", UNFINISHED, "content")).to.equal(undefined);
    expect(await reader.download("acme", BACKUP, "head")).to.deep.equal({ type: "available", size: 42 });
    expect(await reader.download("acme", BACKUP, "link")).to.deep.equal({ type: "through-server" });
    expect(created("download")).to.deep.equal([]);
    expect(created("list")).to.have.length(1);
  });

  it("gives two downloads in the same second their own reader Jobs, and deletes each when its exec fails", async () => {
    const reader = access();
    const outcomes = await Promise.all([1, 2].map(() => reader.download("acme", BACKUP, "content").then(() => "streamed", (err: Error) => err.message)));
    for (const outcome of outcomes) expect(outcome).to.not.equal("streamed");
    const jobs = created("download");
    expect(jobs).to.have.length(2);
    expect(new Set(jobs).size).to.equal(2);
    for (const job of jobs) expect(job).to.match(/^acme-backup-download-[0-9a-f]{12}$/);
    expect((await deletedSoon(2)).sort()).to.deep.equal([...jobs].sort());
  });

  it("draws another name when the cluster answers 409 AlreadyExists", async () => {
    const reader = access();
    await reader.list("acme");
    api.conflicts = 1;
    await reader.download("acme", BACKUP, "content").catch(() => undefined);
    const attempts = api.calls.filter((c) => c.method === "POST" && c.body?.metadata?.labels?.["odoo-saas.io/backup-action"] === "download").map((c) => c.body.metadata.name as string);
    expect(attempts).to.have.length(2);
    expect(attempts[0]).to.not.equal(attempts[1]);
    expect(await deletedSoon(1)).to.deep.equal([attempts[1]]);
  });
});
