/**
 * Env files as Nocalhost reads them: KEY=VALUE per line, split at the first `=`; lines starting with `#`
 * or without `=` are skipped; values are taken as written (no quote removal), so files behave the same
 * under nh and nhctl.
 */
export function parseEnvFile(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#') || !line.includes('=')) continue;
    const eq = line.indexOf('=');
    vars.set(line.slice(0, eq).trim(), line.slice(eq + 1));
  }
  return vars;
}
