/** `portForward` entries: "local:remote", or one port for both ("8080" or 8080). */
export function parsePortForward(entry: string | number): { local: number; remote: number } | { error: string } {
  const text = String(entry).trim();
  const parts = text.split(':');
  if (parts.length > 2) return { error: 'has more than one `:`' };
  const numbers = parts.map((p) => (/^\d+$/.test(p.trim()) ? Number(p.trim()) : NaN));
  if (numbers.some((n) => Number.isNaN(n))) return { error: 'is not "local:remote" with whole numbers' };
  if (numbers.some((n) => n < 1 || n > 65535)) return { error: 'has a port outside 1–65535' };
  const [local, remote = local] = numbers as [number, number?];
  return { local, remote };
}
