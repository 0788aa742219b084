/**
 * Kubernetes resource quantities ("250m", "1.5Gi", "2e3", "100M", "12345n"), parsed fully.
 * The design documents' parser dropped every unit but Ki/Mi/Gi, and the client library's
 * helper rejects fractions with decimal suffixes ("1.5G"), so this follows the grammar of
 * k8s.io/apimachinery's resource.Quantity instead.
 */

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/;

const MULTIPLIER: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export function isQuantity(value: string): boolean {
  return QUANTITY.test(value);
}

/** The quantity in base units (cores, bytes). Throws on malformed input. */
export function quantityValue(value: string): number {
  const match = QUANTITY.exec(value);
  if (!match) throw new Error(`"${value}" is not a Kubernetes quantity`);
  const [, number, exponent, suffix] = match;
  const base = Number(number);
  if (exponent !== undefined) return base * 10 ** Number(exponent.slice(1));
  return suffix === undefined ? base : base * (MULTIPLIER[suffix] as number);
}
