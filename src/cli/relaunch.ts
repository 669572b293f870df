/**
 * nh again, with NODE_EXTRA_CA_CERTS in place, for the few kubeconfigs that make nh open TLS connections it does
 * not configure itself (kube/kubeconfig.ts, needsNodeExtraCAs): bin/nh starts Node without the variable, so
 * that Node does not parse its certificates at every start, and those connections would miss them.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

type Env = Readonly<Record<string, string | undefined>>;

/** Resolves with the second run's exit code, or undefined when this run can go on as it is. */
export async function relaunchWithExtraCAs(argv: readonly string[], cluster: { kubeconfig: string | undefined; context: string | undefined }, env: Env): Promise<number | undefined> {
  const { needsNodeExtraCAs } = await import('../kube/kubeconfig.js');
  if (!needsNodeExtraCAs({ ...cluster, env })) return undefined;
  const { NH_NODE_EXTRA_CA_CERTS: file, ...rest } = env;
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv], { stdio: 'inherit', env: { ...rest, NODE_EXTRA_CA_CERTS: file } });
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
