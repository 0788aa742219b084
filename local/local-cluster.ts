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
import { repoRoot } from "../automation/engine/engine-env";
import { loadKubeConfig } from "../checks/kube";

export interface LocalCluster {
  dir: string;
  kubeconfig: string;
  kc: k8s.KubeConfig;
  /** With a real node: the images imported into it, by name (pause, postgres, odoo-standin, coredns). */
  images: Record<string, string>;
  /** With a real node: where this machine reaches the ingress (Traefik), http://127.0.0.1:<port>. */
  ingressUrl?: string;
  down(): void;
}

export interface RealNodeOptions {
  /** Also start the real node real-node-1 (scripts/prepare-real-node.sh builds what it needs). */
  realNode?: boolean;
  /** With realNode: how many real nodes, real-node-1..N (2 proves anti-affinity and cross-node traffic). */
  realNodes?: 1 | 2;
  /** Local PVs in real folders on each real node. */
  realPvs?: number;
}

/** NAME=VALUE lines of <state>/images.env, keyed by the image's name (LOCAL_CLUSTER_IMAGE_ODOO_STANDIN -> odoo-standin). */
function readImages(dir: string): Record<string, string> {
  const file = path.join(dir, "images.env");
  const images: Record<string, string> = {};
  if (!fs.existsSync(file)) return images;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const m = /^LOCAL_CLUSTER_IMAGE_([A-Z_]+)=(.+)$/.exec(line);
    if (m) images[m[1]!.toLowerCase().replace(/_/g, "-")] = m[2]!;
  }
  return images;
}

export function startLocalCluster(nodes = 3, pvsPerNode = 30, options: RealNodeOptions = {}): LocalCluster {
  const root = repoRoot();
  const script = path.join(root, "scripts", "local-cluster");
  const bins = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"];
  if (options.realNode === true) bins.push("kubelet", "kube-proxy", "kube-router");
  for (const bin of bins) {
    if (!fs.existsSync(path.join(root, ".tools", "bin", bin))) {
      throw new Error(`.tools/bin/${bin} is missing: run scripts/build-tools.sh (scripts/prepare.sh does; scripts/prepare-real-node.sh for the real node)`);
    }
  }
  // A fresh path inside a private temp folder: the script creates (and later removes) it.
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-cluster-")), "state");
  const env = {
    ...process.env, ODOO_SAAS_CLUSTER_DIR: dir, LOCAL_CLUSTER_NODES: String(nodes), LOCAL_CLUSTER_PVS_PER_NODE: String(pvsPerNode),
    LOCAL_CLUSTER_REAL_NODES: options.realNode === true ? String(options.realNodes ?? 1) : "0", LOCAL_CLUSTER_REAL_PVS: String(options.realPvs ?? 10),
  };
  try {
    // A real node imports images and starts pods: on a loaded 2-core machine that took over 5 minutes.
    execFileSync(script, ["up"], { env, stdio: ["ignore", "inherit", "inherit"], timeout: options.realNode === true ? 900_000 : 300_000 });
  } catch (err) {
    try { execFileSync(script, ["down"], { env, stdio: "inherit" }); } catch { /* report the first error */ }
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    throw err;
  }
  const kubeconfig = path.join(dir, "kubeconfig");
  const ingressPort = /^INGRESS_PORT=(\d+)$/m.exec(fs.readFileSync(path.join(dir, "ports.env"), "utf8"))?.[1];
  return {
    dir,
    kubeconfig,
    kc: loadKubeConfig(kubeconfig),
    images: readImages(dir),
    ...(ingressPort !== undefined ? { ingressUrl: `http://127.0.0.1:${ingressPort}` } : {}),
    down: () => {
      execFileSync(script, ["down"], { env, stdio: ["ignore", "inherit", "inherit"], timeout: 120_000 });
      // The script removes its state folder; the private temp folder around it is ours.
      fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    },
  };
}
