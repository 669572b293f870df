/**
 * nh again, with Node's default trust as it would be without bin/nh, for the few kubeconfigs that make nh open
 * TLS connections it does not configure itself (kube/kubeconfig.ts, needsNodeDefaults): bin/nh starts Node
 * without NODE_EXTRA_CA_CERTS (so that Node does not parse its certificates at every start) and with a default
 * store nh empties (kube/trust.ts), and those connections would miss their CAs.
 */

type Env = Readonly<Record<string, string | undefined>>;

/** Resolves with the second run's exit code, or undefined when this run can go on as it is. */
export async function relaunchWithNodeDefaults(argv: readonly string[], cluster: { kubeconfig: string | undefined; context: string | undefined }, env: Env): Promise<number | undefined> {
  const { needsNodeDefaults } = await import('../kube/kubeconfig.js');
  if (!needsNodeDefaults({ ...cluster, env })) return undefined;
  // Loaded only now: every cluster command asks, few run again (≈ 4 ms of a start for child_process).
  const [{ spawn }, { constants }] = await Promise.all([import('node:child_process'), import('node:os')]);
  const { NH_NODE_EXTRA_CA_CERTS: file, NH_EXPLICIT_CAS: _, ...rest } = env;
  const nodeOptions = process.execArgv.filter((option) => option !== '--use-openssl-ca');
  const child = spawn(process.execPath, [...nodeOptions, process.argv[1]!, ...argv], { stdio: 'inherit', env: { ...rest, ...(file ? { NODE_EXTRA_CA_CERTS: file } : {}) } });
  // The terminal's Ctrl-C reaches both processes: the second one decides what it means. Other signals are passed on.
  const ignore = () => undefined;
  const pass = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', ignore).on('SIGTERM', pass).on('SIGHUP', pass);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
    });
  } finally {
    process.off('SIGINT', ignore).off('SIGTERM', pass).off('SIGHUP', pass);
  }
}
