/**
 * `nh ui`: the page for a namespace without a session: who has which service in dev mode since when, read
 * from the dev state on the workloads every few seconds. Read-only: the page offers no actions.
 */
import { devWorkloadsOf, namespaceView, type DevWorkload } from '../../events/from-cluster.js';
import { EventStream } from '../../events/session-event.js';
import type { KubeClient } from '../../kube/client.js';
import { devPodSelector, isReady } from '../../kube/pods.js';
import { clusterOptions, type ParsedCommandLine } from '../args.js';
import type { CliContext } from '../context.js';
import { uiPort } from './up-session.js';

const REFRESH_MS = 3_000;

export async function runUi(ctx: CliContext, args: ParsedCommandLine): Promise<number> {
  const kube = await ctx.kube(clusterOptions(args.options));
  const { startUiServer } = await import('../../ui/server.js');
  const server = await startUiServer({ port: uiPort(args), title: `nh ui — ${kube.namespace}` });
  const stream = new EventStream(ctx.now);
  stream.subscribe((event) => server.publish(event));
  ctx.terminal.out(`read-only view of namespace ${kube.namespace}: ${server.url}\n(Ctrl-C stops it)\n`);
  const stopped = new Promise<void>((resolve) => {
    for (const name of ['SIGINT', 'SIGTERM'] as const) process.once(name, () => resolve());
  });
  let shown = '';
  try {
    for (let done = false; !done; ) {
      const view = namespaceView(kube.namespace, await readDevWorkloads(kube));
      // Sent only when it changed: the page keeps what it was told.
      const text = JSON.stringify(view);
      if (text !== shown) for (const body of view) stream.emit(body);
      shown = text;
      done = await Promise.race([stopped.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), REFRESH_MS).unref())]);
    }
    stream.emit({ type: 'session-end', reason: 'stopped', message: 'nh ui stopped' });
    return 0;
  } finally {
    await server.close();
    kube.close();
  }
}

async function readDevWorkloads(kube: KubeClient): Promise<DevWorkload[]> {
  const [deployments, statefulSets] = await Promise.all([kube.list('Deployment', kube.namespace), kube.list('StatefulSet', kube.namespace)]);
  const workloads = [...deployments.items.map((w) => ({ ...w, kind: 'Deployment' })), ...statefulSets.items.map((w) => ({ ...w, kind: 'StatefulSet' }))];
  const pods = new Map<string, DevWorkload['pod']>();
  await Promise.all(workloads.map(async (workload) => {
    const selector = devPodSelector(workload);
    if (!selector) return;
    const found = (await kube.list('Pod', kube.namespace, { labelSelector: selector })).items.filter((p) => !p.metadata.deletionTimestamp);
    const pod = found.find(isReady) ?? found[0];
    pods.set(`${workload.kind}/${workload.metadata.name}`, pod && { name: pod.metadata.name, ready: isReady(pod) });
  }));
  return devWorkloadsOf(workloads, (w) => pods.get(`${w.kind}/${w.metadata.name}`));
}
