/**
 * Secure defaults shared by every pod: non-root, no privilege escalation, no capabilities,
 * the runtime's seccomp profile, read-only root file system. These satisfy the
 * "restricted" Pod Security Standard the tenant namespaces enforce.
 */
import type * as k8s from "@pulumi/kubernetes";

type PodSecurityContext = k8s.types.input.core.v1.PodSecurityContext;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;

export function podSecurityContext(uid: number, gid: number): PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: gid,
    // Volumes become group-writable for the image's own group.
    fsGroup: gid,
    fsGroupChangePolicy: "OnRootMismatch",
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export function containerSecurityContext(): SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** The official postgres image's `postgres` user. */
export const POSTGRES_UID = 999;
