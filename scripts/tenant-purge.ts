/**
 * `npm run tenant:purge -- <id> --confirm <id> [--stack NAME]`: the only way a tenant's data is
 * destroyed. Removing a tenant from the config retires it (workloads gone, namespace with its
 * database volume, filestore volume, backups and credentials kept); this deletes that
 * namespace and with it every volume. It refuses while the tenant is still configured, and
 * needs the id typed twice.
 *
 * A self-service tenant also has its own stack `<stack>-tenant-<id>`: purge refuses while that
 * stack still deploys it (delete it through the signup server first), then removes the stack,
 * and with DATABASE_URL set forgets the retired tenant's record, which frees its id.
 */
import * as k8s from "@kubernetes/client-node";
import { tenantIdsInState } from "../automation/program-stack";
import { RecordsStore } from "../automation/records/records-store";
import { TenantStacks } from "../automation/tenant-stacks";
import { tenantNames } from "../components/naming";
import { tenantNamespaces } from "../ops/cluster-view";
import { loadKubeConfig } from "../ops/kube";
import { rawConfigFromStackFile, stackFilePath } from "../tenants/config-source";
import { tenantIdProblem } from "../tenants/schema";
import { parseStackConfig } from "../tenants/validate";

function usage(message: string): never {
  console.error(`${message}\nusage: npm run tenant:purge -- <id> --confirm <id> [--stack NAME]`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  const [id, ...rest] = argv;
  if (id === undefined) usage("missing tenant id");
  let confirm: string | undefined;
  let stack = "dev";
  for (let i = 0; i < rest.length; i += 2) {
    if (rest[i] === "--confirm") confirm = rest[i + 1];
    else if (rest[i] === "--stack") stack = rest[i + 1] ?? stack;
    else usage(`unexpected argument "${rest[i]}"`);
  }
  const problem = tenantIdProblem(id);
  if (problem !== undefined && !/reserved/.test(problem)) usage(`tenant id: ${problem}`);
  if (confirm !== id) usage(`refusing: purge destroys every byte of tenant "${id}"; repeat the id after --confirm`);

  const parsed = parseStackConfig(rawConfigFromStackFile(stackFilePath(process.cwd(), stack)));
  if (parsed.ok && parsed.config.tenants.some((t) => t.id === id)) {
    console.error(`refusing: tenant "${id}" is still in Pulumi.${stack}.yaml; remove it (retire) and deploy first`);
    process.exit(1);
  }
  const stacks = new TenantStacks({ opsStackName: stack });
  const own = await stacks.find(id);
  if (own && (await tenantIdsInState(own)).has(id)) {
    console.error(`refusing: tenant "${id}" is still deployed by its stack ${own.name}; delete it first (DELETE /api/tenants/${id})`);
    process.exit(1);
  }
  const kc = loadKubeConfig();
  const namespaces = await tenantNamespaces(kc);
  const namespace = namespaces.get(id);
  if (namespace === undefined || namespace !== tenantNames(id).namespace) {
    console.error(`nothing to purge: no namespace of tenant "${id}" in the cluster`);
    process.exit(1);
  }
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const deployments = await kc.makeApiClient(k8s.AppsV1Api).listNamespacedDeployment({ namespace });
  if (deployments.items.length > 0) {
    console.error(`refusing: ${namespace} still runs workloads; the tenant is not retired`);
    process.exit(1);
  }
  await core.deleteNamespace({ name: namespace });
  console.log(`purged tenant "${id}": namespace ${namespace} and every volume in it are being deleted`);
  if (own) {
    // Only the provider is left in its state: nothing in the cluster is deleted by this.
    await own.destroy();
    await own.workspace.removeStack(own.name);
    console.log(`removed its stack ${own.name}`);
  }
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl !== undefined && databaseUrl !== "") {
    const records = await RecordsStore.open(databaseUrl);
    try {
      if (await records.forgetRetired(id)) console.log(`forgot its signup record; the id "${id}" is free again`);
    } finally {
      await records.close();
    }
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`tenant:purge failed: ${(err as Error).message}`);
  process.exit(1);
});
