// The customer-facing states (automation/customer-status.ts) as the page names them.

export const STATUS_LABELS = {
  creating: "Creating",
  starting: "Starting",
  ready: "Ready",
  suspended: "Paused",
  failed: "Failed",
  deleting: "Deleting",
  deleted: "Deleted",
  unknown: "Unknown",
};

export function statusLabel(status) {
  return Object.hasOwn(STATUS_LABELS, status) ? STATUS_LABELS[status] : "Unknown";
}

/** States that will not change without a request: polling can stop. */
export function settled(status) {
  return status === "ready" || status === "suspended" || status === "failed" || status === "deleted";
}
