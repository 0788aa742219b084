// A Job made from a CronJob the way `kubectl create job --from=cronjob/NAME` makes it
// (kubectl's create_job.go): the jobTemplate's labels and spec, its annotations on top of
// `cronjob.kubernetes.io/instantiate: manual`, and a controller ownerReference to the CronJob.
// Pure: no API calls, so it is unit-tested as is. Type-only imports keep it free of the client.
import type { V1Container, V1CronJob, V1EnvVar, V1Job } from "@kubernetes/client-node";
import { ACTION_LABEL, BACKUP_CLI_COMMAND, JobAction } from "./names";

export interface JobFromCronJobOptions {
  name: string;
  /** Recorded as the ACTION_LABEL label and annotation. */
  action: JobAction;
  /** Set on the backup container, replacing variables of the same name. */
  env?: Record<string, string>;
  /** CLI arguments for the backup container (the command is set to the CLI); default: unchanged. */
  args?: string[];
  /** Overrides of the Job spec; default: the CronJob's values. */
  backoffLimit?: number;
  ttlSecondsAfterFinished?: number;
  /**
   * Make the backup container's volume mounts (and the PersistentVolumeClaims behind them)
   * writable. A restore writes the filestore back, while the CronJob mounts it read-only.
   */
  writableVolumes?: boolean;
  activeDeadlineSeconds?: number;
}

/** The container running the backup CLI: the one named `backup`, or the only one. */
export function backupContainer(containers: V1Container[]): V1Container {
  const named = containers.find((c) => c.name === "backup");
  if (named) return named;
  if (containers.length === 1) return containers[0]!;
  throw new Error(`the CronJob's pod has ${containers.length} containers and none is named "backup"`);
}

function withEnv(env: V1EnvVar[] | undefined, overrides: Record<string, string>): V1EnvVar[] {
  const kept = (env ?? []).filter((e) => !Object.hasOwn(overrides, e.name));
  return [...kept, ...Object.entries(overrides).map(([name, value]) => ({ name, value }))];
}

export function jobFromCronJob(cronJob: V1CronJob, options: JobFromCronJobOptions): V1Job {
  const name = cronJob.metadata?.name;
  const uid = cronJob.metadata?.uid;
  const template = cronJob.spec?.jobTemplate;
  if (!name || !uid) throw new Error("the CronJob has no name or uid (was it read from the API server?)");
  if (!template?.spec) throw new Error(`CronJob ${name} has no jobTemplate.spec`);

  // A deep copy: the CronJob object the caller holds must not change.
  const spec = structuredClone(template.spec);
  if (options.backoffLimit !== undefined) spec.backoffLimit = options.backoffLimit;
  if (options.ttlSecondsAfterFinished !== undefined) spec.ttlSecondsAfterFinished = options.ttlSecondsAfterFinished;
  if (options.activeDeadlineSeconds !== undefined) spec.activeDeadlineSeconds = options.activeDeadlineSeconds;
  if (options.env !== undefined || options.args !== undefined || options.writableVolumes) {
    const container = backupContainer(spec.template.spec?.containers ?? []);
    if (options.writableVolumes) {
      const mounted = new Set<string>();
      for (const mount of container.volumeMounts ?? []) {
        delete mount.readOnly;
        mounted.add(mount.name);
      }
      for (const volume of spec.template.spec?.volumes ?? []) {
        if (mounted.has(volume.name) && volume.persistentVolumeClaim) delete volume.persistentVolumeClaim.readOnly;
      }
    }
    if (options.env !== undefined) container.env = withEnv(container.env, options.env);
    if (options.args !== undefined) {
      container.command = [...BACKUP_CLI_COMMAND];
      container.args = [...options.args];
    }
  }

  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: options.name,
      ...(cronJob.metadata?.namespace !== undefined ? { namespace: cronJob.metadata.namespace } : {}),
      labels: { ...(template.metadata?.labels ?? {}), [ACTION_LABEL]: options.action },
      annotations: {
        "cronjob.kubernetes.io/instantiate": "manual",
        ...(template.metadata?.annotations ?? {}),
        [ACTION_LABEL]: options.action,
      },
      ownerReferences: [
        // Like kubectl: controller, but no blockOwnerDeletion (which would need cronjobs/finalizers rights).
        { apiVersion: "batch/v1", kind: "CronJob", name, uid, controller: true },
      ],
    },
    spec,
  };
}
