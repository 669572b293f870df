/**
 * `nh logs SERVICE [-f]`: the log of the service's dev container (its first container when it is not in
 * dev mode), following across connection drops and pod replacements with -f. In dev mode the output of
 * the process `nh up` runs is streamed by `nh up` itself.
 */
import { UsageError } from '../../errors.js';
import { PodTracker } from '../../kube/pod-tracker.js';
import { devWorkloadFor, labelSelectorOf } from '../../kube/pods.js';
import { followLogs } from '../../logs/follow.js';
import { clusterOptions, flag, type ParsedCommandLine } from '../args.js';
import { loadAppConfig } from '../app-config.js';
import type { CliContext } from '../context.js';
import { NhError } from '../../errors.js';

export async function runLogs(ctx: CliContext, args: ParsedCommandLine): Promise<number> {
  const [name, ...extra] = args.positionals;
  if (!name || extra.length) throw new UsageError('name one service: `nh logs SERVICE [-f]`');
  const config = loadAppConfig(ctx, args.options);
  const service = config.services.find((s) => s.name === name);
  if (!service) throw new NhError('NH_UNKNOWN_SERVICE', `no service \`${name}\` in the config`, { hint: `services: ${config.services.map((s) => s.name).join(', ')}` });
  const cluster = clusterOptions(args.options);
  const [kube, endpoint] = await Promise.all([ctx.kube(cluster), ctx.execEndpoint(cluster)]);
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const workload = await devWorkloadFor(kube, kube.namespace, service.workload, flag(args.options, 'duplicate') ? ctx.identity : undefined);
    const selector = workload && labelSelectorOf(workload);
    if (!selector) {
      throw new NhError('NH_NO_DEV_POD', `${service.workload.kind} \`${service.workload.name}\` not found in namespace \`${kube.namespace}\` (or, for a ${service.workload.kind}, not in dev mode)`, { hint: 'check the namespace (-n); `nh status` shows the service' });
    }
    const pods = new PodTracker(kube, kube.namespace, selector);
    const tracking = pods.run(abort.signal);
    try {
      await pods.nextPod(AbortSignal.any([abort.signal, AbortSignal.timeout(flag(args.options, 'follow') ? 2_147_483_647 : 10_000)]));
    } catch {
      if (abort.signal.aborted) return 0;
      throw new NhError('NH_NO_DEV_POD', `${service.name} has no ready pod`, { hint: '`nh status` shows its state; `nh logs -f` waits for one' });
    }
    await followLogs({
      endpoint, pods, container: service.containers[0]?.name, follow: flag(args.options, 'follow'), signal: abort.signal,
      onLine: (line) => ctx.terminal.out(`${line}\n`),
      onNotice: (message) => ctx.terminal.err(`${ctx.style.dim(`· ${message}`)}\n`),
    });
    abort.abort();
    await tracking;
    return 0;
  } finally {
    abort.abort();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    kube.close();
  }
}
