// Tenant ids become namespace names, file-system path segments and object-store prefixes,
// so they are checked against the strictest of those: a DNS-1123 label.
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isTenantId(value: string): boolean {
  return value.length <= 63 && DNS_1123_LABEL.test(value);
}

/** Throws an error naming `what` (an env variable or argument) when `value` is not a tenant id. */
export function assertTenantId(value: string, what = "tenant id"): string {
  if (!isTenantId(value)) {
    throw new Error(
      `${what} must be a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters, ` +
        `starting and ending with a letter or digit); got ${JSON.stringify(value)}`,
    );
  }
  return value;
}
