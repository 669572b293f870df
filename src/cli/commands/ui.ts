/**
 * `nh ui`: the page for a namespace without a session: who has which service in dev mode since when, from
 * the dev state on the workloads. It follows the cluster through one list+watch per kind (Deployments,
 * StatefulSets, dev pods: the same mirrors as `nh up`'s rollout waits), so a change shows within moments
 * and an idle namespace costs no requests. Read-only: the page offers no actions.
 */
import { devWorkloadsOf, namespaceView, type DevWorkload } from '../../events/from-cluster.js';
import { EventStream } from '../../events/session-event.js';
import { isReady, selectorMatches } from '../../kube/pods.js';
import { RolloutWatch } from '../../kube/rollout.js';
import { clusterOptions, type ParsedCommandLine } from '../args.js';
import type { CliContext } from '../context.js';
import { uiPort } from './up-session.js';

/** How long one wait for a change may last before the view is read again anyway. */
const IDLE_MS = 60_000;

export async function runUi(ctx: CliContext, args: ParsedCommandLine): Promise<number> {
  const kube = await ctx.kube(clusterOptions(args.options));
  const { startUiServer } = await import('../../ui/server.js');
  const server = await startUiServer({ port: uiPort(args), title: `nh ui — ${kube.namespace}` });
  const stream = new EventStream(ctx.now);
  stream.subscribe((event) => server.publish(event));
  const watch = new RolloutWatch(kube, kube.namespace);
  watch.warm(['Deployment', 'StatefulSet']);
  ctx.terminal.out(`read-only view of namespace ${kube.namespace}: ${server.url}\n(Ctrl-C stops it)\n`);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  for (const name of ['SIGINT', 'SIGTERM'] as const) process.once(name, onSignal);
  let shown = '';
  try {
    while (!stop.signal.aborted) {
      // Read after taking the version: a change while reading wakes the next wait at once.
      const version = watch.version;
      const dev = devWorkloads(watch);
      if (dev) {
        const view = namespaceView(kube.namespace, dev);
        // Sent only when it changed: the page keeps what it was told.
        const text = JSON.stringify(view);
        if (text !== shown) for (const body of view) stream.emit(body);
        shown = text;
      }
      await watch.changed(version, IDLE_MS, stop.signal);
    }
    stream.emit({ type: 'session-end', reason: 'stopped', message: 'nh ui stopped' });
    return 0;
  } finally {
    for (const name of ['SIGINT', 'SIGTERM'] as const) process.off(name, onSignal);
    watch.close();
    await server.close();
    kube.close();
  }
}

/** The workloads in dev mode with their dev pods, from the mirrors; undefined until all of them listed once. */
function devWorkloads(watch: RolloutWatch): DevWorkload[] | undefined {
  const deployments = watch.objects('Deployment');
  const statefulSets = watch.objects('StatefulSet');
  const pods = watch.objects('Pod');
  if (!deployments || !statefulSets || !pods) return undefined;
  const live = pods.filter((p) => !p.metadata.deletionTimestamp);
  return devWorkloadsOf([...deployments, ...statefulSets], (workload) => {
    const own = live.filter((p) => selectorMatches(workload, p.metadata.labels));
    const pod = own.find(isReady) ?? own[0];
    return pod && { name: pod.metadata.name, ready: isReady(pod) };
  });
}
