/**
 * A private real local control plane (a test suite's, a benchmark's): scripts/local-cluster
 * in its own state folder, so parallel runs (or a developer's own cluster) never collide.
 * Fails loudly when the binaries are missing: there is no skipping.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as k8s from "@kubernetes/client-node";
import { repoRoot } from "../automation/engine-env";
import { loadKubeConfig } from "./kube";

export interface LocalCluster {
  dir: string;
  kubeconfig: string;
  kc: k8s.KubeConfig;
  down(): void;
}

export function startLocalCluster(nodes = 3, pvsPerNode = 30): LocalCluster {
  const root = repoRoot();
  const script = path.join(root, "scripts", "local-cluster");
  for (const bin of ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]) {
    if (!fs.existsSync(path.join(root, ".tools", "bin", bin))) {
      throw new Error(`.tools/bin/${bin} is missing: run scripts/build-tools.sh (scripts/prepare.sh does)`);
    }
  }
  // A fresh path inside a private temp folder: the script creates (and later removes) it.
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-cluster-")), "state");
  const env = { ...process.env, ODOO_SAAS_CLUSTER_DIR: dir, LOCAL_CLUSTER_NODES: String(nodes), LOCAL_CLUSTER_PVS_PER_NODE: String(pvsPerNode) };
  try {
    execFileSync(script, ["up"], { env, stdio: ["ignore", "inherit", "inherit"], timeout: 300_000 });
  } catch (err) {
    try { execFileSync(script, ["down"], { env, stdio: "inherit" }); } catch { /* report the first error */ }
    throw err;
  }
  const kubeconfig = path.join(dir, "kubeconfig");
  return {
    dir,
    kubeconfig,
    kc: loadKubeConfig(kubeconfig),
    down: () => execFileSync(script, ["down"], { env, stdio: ["ignore", "inherit", "inherit"], timeout: 120_000 }),
  };
}
