/**
 * Which UploadRestorer the served server uses: with a cluster, restores run in the tenant's
 * namespace (kube-upload-restorer.ts), whatever the backup store; without one, uploads answer 503.
 */
import { kubeConfigFromSetting } from "../checks/kube";
import { KubernetesUploadRestorer } from "./kube-upload-restorer";
import { UnavailableUploadRestorer, type UploadRestorer } from "./upload-restorer";

export function uploadRestorerFromConfig(kubeconfig: string | undefined): UploadRestorer {
  if (kubeconfig === "none") return new UnavailableUploadRestorer("no cluster configured (KUBECONFIG=none)");
  const loaded = kubeConfigFromSetting(kubeconfig);
  if (!("kc" in loaded)) return new UnavailableUploadRestorer(loaded.unusable);
  return new KubernetesUploadRestorer(loaded.kc);
}
