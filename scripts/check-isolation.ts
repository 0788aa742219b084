/**
 * `npm run check:isolation -- <tenant> <tenant> [<tenant> ...] [--image IMAGE]
 *  [--ingress-namespace traefik] [--dns-namespace kube-system] [--outside-namespace default]`:
 * on a real cluster whose CNI enforces NetworkPolicies, short-lived non-root probe pods send TCP
 * connections along every path of the README's fence table and between every ordered pair of
 * the tenants given (ops/isolation-probe.ts). The probes are deleted whatever happens.
 * Exit 0 every fence as designed; 3 a path the fences deny is open (a cross-tenant one is named
 * as such); 1 only paths that must exist are closed; 2 error; 4 not probed (simulated cluster).
 */
import * as k8s from "@kubernetes/client-node";
import { table } from "../checks/cluster-view";
import { exitCodeOf, isSimulated, judge, listenerPod, parseProbeLog, probePlan, probePod, PROBE_NAME, type ProbeOwner, type ProbeSource, type ProbeVerdict } from "../checks/isolation-probe";
import { tenantNames } from "../components/naming";
import { isNotFound, loadKubeConfig } from "../checks/kube";
import { tenantIdProblem } from "../tenants/schema";

const SIMULATED_MESSAGE = "This is the local simulated cluster: KWOK nodes run no containers and no CNI enforces NetworkPolicies here, so a probe would prove nothing. Use `npm run check:policies` (the analyser) here; run this probe on a real cluster.";
const USAGE = "usage: npm run check:isolation -- <tenant> <tenant> [...] [--image IMAGE] [--ingress-namespace NS] [--dns-namespace NS] [--outside-namespace NS]";
const OPTIONS = new Map([["--image", "busybox:1.36"], ["--ingress-namespace", "traefik"], ["--dns-namespace", "kube-system"], ["--outside-namespace", "default"]]);

function parseArgs(argv: string[]): { tenants: string[]; options: Map<string, string> } | string {
  const options = new Map(OPTIONS);
  const tenants: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg.startsWith("--")) {
      const value = argv[++i];
      if (!OPTIONS.has(arg) || value === undefined) return USAGE;
      options.set(arg, value);
    } else {
      const problem = tenantIdProblem(arg);
      if (problem !== undefined) return `tenant id: ${problem}`;
      if (!tenants.includes(arg)) tenants.push(arg);
    }
  }
  return tenants.length < 2 ? USAGE : { tenants, options };
}

const PROBE_SELECTORS = ["app.kubernetes.io/name=isolation-probe", "odoo-saas.io/isolation-probe=true"];

/** One ConfigMap per namespace owns that namespace's probes; both go, and this waits until the pods are gone (a name is reused next run). */
async function deleteRun(core: k8s.CoreV1Api, namespaces: readonly string[]): Promise<void> {
  const ignoreNotFound = (err: unknown): void => { if (!isNotFound(err)) throw err; };
  await Promise.all(namespaces.map(async (namespace) => {
    await core.deleteNamespacedConfigMap({ name: PROBE_NAME, namespace, propagationPolicy: "Background" }).catch(ignoreNotFound);
    for (const labelSelector of PROBE_SELECTORS) await core.deleteCollectionNamespacedPod({ namespace, labelSelector, gracePeriodSeconds: 0 }).catch(ignoreNotFound);
    const deadline = Date.now() + 90_000;
    for (;;) {
      const left = (await Promise.all(PROBE_SELECTORS.map((labelSelector) => core.listNamespacedPod({ namespace, labelSelector })))).reduce((n, l) => n + l.items.length, 0);
      if (left === 0) return;
      if (Date.now() > deadline) throw new Error(`${left} probe pod(s) in ${namespace} still there after 90 s`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }));
}

async function ownerIn(core: k8s.CoreV1Api, namespace: string): Promise<ProbeOwner> {
  const map = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: PROBE_NAME }, data: { purpose: "owns check:isolation's probe pods" } } });
  return { name: PROBE_NAME, uid: map.metadata!.uid! };
}

/** Each tenant's listener, Ready: its pod IP by tenant. */
async function startListeners(core: k8s.CoreV1Api, tenants: readonly string[], owners: ReadonlyMap<string, ProbeOwner>, image: string): Promise<Map<string, string>> {
  const ips = new Map<string, string>();
  await Promise.all(tenants.map(async (id) => {
    const { namespace } = tenantNames(id);
    const pod = await core.createNamespacedPod({ namespace, body: listenerPod(id, image, owners.get(namespace)!) });
    const deadline = Date.now() + 180_000;
    for (;;) {
      const status = (await core.readNamespacedPod({ name: pod.metadata!.name!, namespace })).status;
      if (status?.podIP && (status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")) { ips.set(id, status.podIP); return; }
      if (status?.phase === "Failed" || status?.phase === "Succeeded") throw new Error(`listener ${namespace}/${pod.metadata!.name!} ended (${status.phase})`);
      if (Date.now() > deadline) throw new Error(`listener ${namespace}/${pod.metadata!.name!} not Ready after 180 s`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }));
  return new Map(tenants.map((id) => [id, ips.get(id)!]));
}

async function runSource(core: k8s.CoreV1Api, source: ProbeSource, image: string, owner: ProbeOwner): Promise<ProbeVerdict[]> {
  const { namespace } = source;
  await core.createNamespacedPod({ namespace, body: probePod(source, image, owner) });
  const deadline = Date.now() + 180_000;
  for (;;) {
    const phase = (await core.readNamespacedPod({ name: source.pod, namespace })).status?.phase ?? "Pending";
    if (phase === "Succeeded" || phase === "Failed") break;
    if (Date.now() > deadline) throw new Error(`probe pod ${namespace}/${source.pod} still ${phase} after 180 s`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  return judge(source, parseProbeLog(String(await core.readNamespacedPodLog({ name: source.pod, namespace }))));
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === "string") { console.error(args); return 2; }
  const kc = loadKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  if (isSimulated((await core.listNode()).items)) {
    console.log(SIMULATED_MESSAGE);
    return 4;
  }
  const settings = {
    ingressNamespace: args.options.get("--ingress-namespace")!, dnsNamespace: args.options.get("--dns-namespace")!, outsideNamespace: args.options.get("--outside-namespace")!,
  };
  const image = args.options.get("--image")!;
  const namespaces = [...new Set(probePlan(args.tenants, settings).map((s) => s.namespace))];
  await deleteRun(core, namespaces); // leftovers of an interrupted run
  const cleanup = (): void => { void deleteRun(core, namespaces).finally(() => process.exit(2)); };
  process.once("SIGINT", cleanup);
  process.once("SIGTERM", cleanup);
  try {
    const owners = new Map(await Promise.all(namespaces.map(async (ns) => [ns, await ownerIn(core, ns)] as const)));
    const plan = probePlan(args.tenants, settings, await startListeners(core, args.tenants, owners, image));
    const verdicts = (await Promise.all(plan.map((s) => runSource(core, s, image, owners.get(s.namespace)!)))).flat();
    console.log(table(["FROM", "TO", "ADDRESS", "RULE", "EXPECTED", "ACTUAL", ""], verdicts.map((v) => [
      v.from, v.name, `${v.host}:${v.port}`, v.rule, v.expect, v.actual, v.ok ? "ok" : v.crossTenant ? "CROSS-TENANT PATH" : "WRONG",
    ])));
    const code = exitCodeOf(verdicts);
    const crossOpen = verdicts.filter((v) => v.crossTenant && v.actual === "open").length;
    const cross = verdicts.filter((v) => v.crossTenant).length;
    console.log(`\n${verdicts.length} paths probed from ${plan.length} pods; ${cross} between tenants, ${crossOpen} of them open; ${verdicts.filter((v) => !v.ok).length} not as designed`);
    return code;
  } finally {
    await deleteRun(core, namespaces);
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(`check:isolation failed: ${(err as Error).message}`);
  process.exitCode = 2;
});
