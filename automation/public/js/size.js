// The one way the page writes a size: decimal units, one decimal, as the server's formatSize
// (automation/upload-receiver.ts) writes plan storage and the upload limit: "10.7 GB".

export function formatSize(bytes) {
  if (bytes === null || bytes === undefined) return "n/a";
  if (bytes >= 1e9) return `${Number((bytes / 1e9).toFixed(1))} GB`;
  if (bytes >= 1e6) return `${Number((bytes / 1e6).toFixed(1))} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}
