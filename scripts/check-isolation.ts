/**
 * `npm run check:isolation -- <tenantA> <tenantB> [--image busybox:1.36]`: on a real cluster
 * whose CNI enforces NetworkPolicies, runs a short-lived non-root probe pod in A's namespace
 * that must reach A's PostgreSQL and must not reach B's PostgreSQL or Odoo. The probe is
 * deleted whatever happens. Exit 0 all as expected, 1 a fence is wrong, 2 error,
 * 3 not probed (simulated cluster).
 */
import * as k8s from "@kubernetes/client-node";
import { tenantNames } from "../components/naming";
import { table } from "../checks/cluster-view";
import { isSimulated, judge, parseProbeLog, probePod, probeTargets, PROBE_NAME } from "../checks/isolation-probe";
import { isNotFound, loadKubeConfig } from "../checks/kube";
import { tenantIdProblem } from "../tenants/schema";

const SIMULATED_MESSAGE = "This is the local simulated cluster: KWOK nodes run no containers and no CNI enforces NetworkPolicies here, so a probe would prove nothing. Use `npm run check:policies` (the analyser) here; run this probe on a real cluster.";

async function deleteProbe(core: k8s.CoreV1Api, namespace: string): Promise<void> {
  try {
    await core.deleteNamespacedPod({ name: PROBE_NAME, namespace, gracePeriodSeconds: 0 });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

async function main(argv: string[]): Promise<number> {
  const positional = argv.filter((a, i) => !a.startsWith("--") && argv[i - 1] !== "--image");
  const imageIndex = argv.indexOf("--image");
  const image = imageIndex >= 0 ? argv[imageIndex + 1] ?? "busybox:1.36" : "busybox:1.36";
  const [a, b] = positional;
  if (a === undefined || b === undefined || a === b) {
    console.error("usage: npm run check:isolation -- <tenantA> <tenantB> [--image IMAGE]");
    return 2;
  }
  for (const id of [a, b]) {
    const problem = tenantIdProblem(id);
    if (problem !== undefined) { console.error(`tenant id: ${problem}`); return 2; }
  }
  const kc = loadKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  if (isSimulated((await core.listNode()).items)) {
    console.log(SIMULATED_MESSAGE);
    return 3;
  }
  const namespace = tenantNames(a).namespace;
  const targets = probeTargets(a, b);
  await deleteProbe(core, namespace); // a leftover from an interrupted run
  const cleanup = (): void => { void deleteProbe(core, namespace).finally(() => process.exit(2)); };
  process.once("SIGINT", cleanup);
  process.once("SIGTERM", cleanup);
  try {
    await core.createNamespacedPod({ namespace, body: probePod(a, targets, image) });
    const deadline = Date.now() + 150_000;
    let phase = "Pending";
    while (phase !== "Succeeded" && phase !== "Failed") {
      if (Date.now() > deadline) throw new Error(`probe pod still ${phase} after 150s`);
      await new Promise((r) => setTimeout(r, 2000));
      phase = (await core.readNamespacedPod({ name: PROBE_NAME, namespace })).status?.phase ?? "Pending";
    }
    const log = String(await core.readNamespacedPodLog({ name: PROBE_NAME, namespace }));
    const verdicts = judge(targets, parseProbeLog(log));
    console.log(table(["TARGET", "ADDRESS", "EXPECTED", "ACTUAL", ""], verdicts.map((v) => [v.name, `${v.host}:${v.port}`, v.expect, v.actual, v.ok ? "ok" : "WRONG"])));
    return verdicts.every((v) => v.ok) ? 0 : 1;
  } finally {
    await deleteProbe(core, namespace);
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(`check:isolation failed: ${(err as Error).message}`);
  process.exitCode = 2;
});
