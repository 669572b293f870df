/**
 * Kubernetes resource quantities as numbers (cores, bytes, counts): `500m`, `2`, `1.5`, `128Mi`, `1G`, `1e3`.
 * Enough for comparing against a quota; undefined for text the API server would reject.
 */
const SUFFIXES: Readonly<Record<string, number>> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

export function parseQuantity(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text : undefined;
  const match = /^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:([eE][-+]?[0-9]+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/.exec(text.trim());
  if (!match) return undefined;
  const base = Number(match[1]);
  if (match[2]) return base * 10 ** Number(match[2].slice(1));
  return base * SUFFIXES[match[3] ?? '']!;
}

/** A quantity for messages: bytes in Mi/Gi, cores in m or whole. */
export function formatQuantity(value: number, resource: string): string {
  if (/memory|storage/.test(resource)) {
    return value >= 2 ** 30 && value % 2 ** 28 === 0 ? `${value / 2 ** 30}Gi` : `${Math.ceil(value / 2 ** 20)}Mi`;
  }
  if (/cpu/.test(resource)) return Number.isInteger(value) ? String(value) : `${Math.round(value * 1000)}m`;
  return String(value);
}
