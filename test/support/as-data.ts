/**
 * Pulumi input types allow Outputs and Promises at every level; the pure spec builders put
 * plain values there. Tests read a spec back as plain JSON data through this.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deliberately untyped test view of a JSON document
export type Json = any;
export function asData(value: unknown): Json {
  return JSON.parse(JSON.stringify(value)) as Json;
}
