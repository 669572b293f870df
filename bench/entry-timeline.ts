/**
 * The floor benchmark's dev-mode timeline (NH_BENCH_TIMELINE=1): where one entry's time goes, on either side.
 * Before each timed entry the bench watches the namespace's Deployments, ReplicaSets and Pods (its own three
 * streams, open before the entry starts) and records when each step of the rollout reached it: the patch
 * (a new generation), the old ReplicaSet scaled down, the new one (often one kept from an earlier entry) scaled up, the new pod created, scheduled, its
 * container running, Ready, the Deployment rolled out as `kubectl rollout status` counts it, the old pod
 * terminating and gone. Times are the bench's receive times (the API server's own audit is not available),
 * in ms from the entry's start; the clients' own marks (first request, patch sent, exit) come from the clients:
 * nh through request-times.preload.ts, kubectl from its `-v=6` request log.
 */
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { connect } from '../src/kube/kubeconfig.js';
import type { KubeObject } from '../src/model/kube-object.js';
import { kubeconfig } from './cluster.js';
import { summary } from './support.js';

/** Epoch ms with sub-ms resolution, the clock the clients' marks are converted to. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

/** The steps, in the order they are printed. */
export const STEPS = [
  'V8 started', 'Node bootstrap complete', 'first request', 'patch sent', 'patched', 'old ReplicaSet scaled down', 'new ReplicaSet scaled up', 'pod created', 'pod scheduled',
  'container running', 'pod Ready', 'rolled out', 'old pod terminating', 'client exit', 'old pod gone',
] as const;
export type Step = (typeof STEPS)[number];

interface Tracked {
  generation: number;
  /** The ReplicaSets that had pods when the watch opened: the one the entry scales down. */
  readonly oldReplicaSets: Set<string>;
  /** The pod the entry replaces (pods already terminating when the watch opened are left out). */
  readonly oldPods: Set<string>;
  /** Every pod there when the watch opened: none of them is the new one. */
  readonly listedPods: Set<string>;
}

type Kind = 'deployments' | 'replicasets' | 'pods';
const PATHS: Record<Kind, string> = { deployments: '/apis/apps/v1', replicasets: '/apis/apps/v1', pods: '/api/v1' };

export class EntryTimeline {
  /** Per Deployment, each step's first time (epoch ms). */
  private readonly seen = new Map<string, Map<Step, number>>();
  private readonly tracked = new Map<string, Tracked>();
  /** The clients' own marks (first request, patch sent, exit), epoch ms. */
  private readonly marks = new Map<Step, number>();
  private readonly stop = new AbortController();
  private readonly streams: Promise<void>[] = [];
  private started = 0;

  private constructor(names: readonly string[]) {
    for (const name of names) this.seen.set(name, new Map());
  }

  /** Lists the three kinds and opens their watches; resolves once every watch is open. */
  static async open(namespace: string, names: readonly string[]): Promise<EntryTimeline> {
    const timeline = new EntryTimeline(names);
    const connection = await connect({ kubeconfig, context: undefined, env: process.env });
    const request = async (path: string, onResponse: (res: IncomingMessage) => void) => {
      const options: https.RequestOptions = {};
      await connection.applyToHTTPSOptions(options);
      return https.request(new URL(connection.server.replace(/\/$/, '') + path), { ...options, headers: { ...options.headers, Accept: 'application/json' }, signal: timeline.stop.signal }, onResponse);
    };
    const lists = await Promise.all((Object.keys(PATHS) as Kind[]).map(async (kind) => {
      const body = await new Promise<string>((resolve, reject) => {
        void request(`${PATHS[kind]}/namespaces/${namespace}/${kind}`, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve(text)).on('error', reject);
        }).then((req) => req.on('error', reject).end(), reject);
      });
      return [kind, JSON.parse(body) as { metadata: { resourceVersion: string }; items: KubeObject[] }] as const;
    }));
    const listed = new Map(lists);
    for (const name of names) {
      const deployment = listed.get('deployments')!.items.find((d) => d.metadata.name === name);
      const ownedBy = (o: KubeObject, owner: string) => o.metadata.ownerReferences?.some((r) => r.name === owner) ?? false;
      const pods = listed.get('pods')!.items.filter((p) => p.metadata.labels?.['app'] === name);
      timeline.tracked.set(name, {
        generation: deployment?.metadata.generation ?? 0,
        oldReplicaSets: new Set(listed.get('replicasets')!.items.filter((rs) => ownedBy(rs, name) && replicas(rs) > 0).map((rs) => rs.metadata.name)),
        oldPods: new Set(pods.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name)),
        listedPods: new Set(pods.map((p) => p.metadata.name)),
      });
    }
    await Promise.all([...listed].map(([kind, list]) => new Promise<void>((opened, failed) => {
      const path = `${PATHS[kind]}/namespaces/${namespace}/${kind}?watch=1&resourceVersion=${list.metadata.resourceVersion}`;
      timeline.streams.push(new Promise<void>((ended) => {
        void request(path, (res) => {
          opened();
          let buffered = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            const at = epochNow();
            buffered += chunk;
            let newline: number;
            while ((newline = buffered.indexOf('\n')) >= 0) {
              const line = buffered.slice(0, newline);
              buffered = buffered.slice(newline + 1);
              if (line.trim()) timeline.observe(kind, JSON.parse(line) as { type: string; object: KubeObject }, at);
            }
          });
          res.on('end', () => ended()).on('error', () => ended());
        }).then((req) => req.on('error', (e) => (timeline.stop.signal.aborted ? ended() : failed(e))).end(), failed);
      }));
    })));
    return timeline;
  }

  /** The entry starts now: every time is counted from here. */
  begin(): void {
    this.started = epochNow();
  }

  /** A client's own mark, in epoch ms. */
  mark(step: Step, at: number | undefined): void {
    if (at !== undefined) this.marks.set(step, at);
  }

  /** Waits until the old pods are gone (or 15 s), stops the watches; each step's time, the last service's. */
  async close(): Promise<Map<Step, number>> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && [...this.seen.values()].some((steps) => !steps.has('old pod gone'))) await new Promise((r) => setTimeout(r, 50));
    this.stop.abort();
    await Promise.all(this.streams);
    const result = new Map<Step, number>();
    for (const step of STEPS) {
      const times = [...this.seen.values()].map((steps) => steps.get(step));
      if (times.every((t) => t !== undefined)) result.set(step, Math.max(...times) - this.started);
    }
    for (const [step, at] of this.marks) result.set(step, at - this.started);
    return result;
  }

  private observe(kind: Kind, event: { type: string; object: KubeObject }, at: number): void {
    const object = event.object;
    if (event.type === 'BOOKMARK' || event.type === 'ERROR') return;
    for (const [name, tracked] of this.tracked) {
      const record = (step: Step) => {
        const steps = this.seen.get(name)!;
        if (!steps.has(step)) steps.set(step, at);
      };
      if (kind === 'deployments' && object.metadata.name === name) {
        const generation = object.metadata.generation ?? 0;
        if (generation > tracked.generation) record('patched');
        const status = (object['status'] ?? {}) as { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number };
        // `kubectl rollout status`'s condition for a Deployment of one replica.
        if (generation > tracked.generation && (status.observedGeneration ?? 0) >= generation && status.updatedReplicas === 1 && status.replicas === 1 && status.availableReplicas === 1) record('rolled out');
      }
      if (kind === 'replicasets' && object.metadata.ownerReferences?.some((r) => r.kind === 'Deployment' && r.name === name)) {
        if (!tracked.oldReplicaSets.has(object.metadata.name)) {
          if (replicas(object) > 0) record('new ReplicaSet scaled up');
        } else if (replicas(object) === 0) record('old ReplicaSet scaled down');
      }
      if (kind === 'pods' && object.metadata.labels?.['app'] === name) {
        const pod = object.metadata.name;
        if (tracked.oldPods.has(pod)) {
          if (object.metadata.deletionTimestamp) record('old pod terminating');
          if (event.type === 'DELETED') record('old pod gone');
        }
        if (tracked.listedPods.has(pod)) continue;
        record('pod created');
        const spec = (object['spec'] ?? {}) as { nodeName?: string };
        const status = (object['status'] ?? {}) as { containerStatuses?: { state?: { running?: unknown } }[]; conditions?: { type: string; status: string }[] };
        if (spec.nodeName) record('pod scheduled');
        if (status.containerStatuses?.some((c) => c.state?.running)) record('container running');
        if (status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) record('pod Ready');
      }
    }
  }
}

function replicas(replicaSet: KubeObject): number {
  return (replicaSet['spec'] as { replicas?: number } | undefined)?.replicas ?? 0;
}

/** One line per step: the median of each side's runs (and their range). */
export function timelineTable(sides: ReadonlyMap<string, readonly Map<Step, number>[]>): string {
  const lines = [`  ${'step (ms from the entry start; the last service)'.padEnd(48)}${[...sides.keys()].map((s) => s.padStart(26)).join('')}`];
  for (const step of STEPS) {
    const cells = [...sides.values()].map((runs) => {
      const times = runs.map((r) => r.get(step)).filter((t): t is number => t !== undefined);
      if (times.length === 0) return '—'.padStart(26);
      const s = summary(times);
      return `${s.p50.toFixed(0)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`.padStart(26);
    });
    lines.push(`  ${step.padEnd(48)}${cells.join('')}`);
  }
  return lines.join('\n');
}

/** One run's steps on one line, in time order. */
export function timelineLine(label: string, steps: ReadonlyMap<Step, number>): string {
  return `  ${label}: ${[...steps].sort((a, b) => a[1] - b[1]).map(([step, t]) => `${step} ${t.toFixed(0)}`).join(' | ')}`;
}

/**
 * nh's request log (request-times.preload.ts), epoch ms: Node's start-up milestones, the first request's start
 * and the last PATCH's start.
 */
export function nhMarks(stderr: string): { v8Start?: number; bootstrapComplete?: number; firstRequest?: number; patchSent?: number } {
  const line = /\nnh-requests (.*)\n/.exec(stderr)?.[1];
  if (!line) return {};
  const { v8Start, bootstrapComplete, requests } = JSON.parse(line) as { v8Start: number; bootstrapComplete: number; requests: { method: string; start: number }[] };
  return { v8Start, bootstrapComplete, firstRequest: requests[0]?.start, patchSent: requests.filter((r) => r.method === 'PATCH').at(-1)?.start };
}

/**
 * kubectl's `-v=6` request log (klog, local time with µs; the bench runs kubectl with TZ=UTC): each response's
 * time less its duration is when the request went out. The first request's and the last PATCH's, epoch ms.
 */
export function kubectlMarks(stderr: string): { firstRequest?: number; patchSent?: number } {
  const sent = [...stderr.matchAll(/^I(\d\d)(\d\d) (\d\d:\d\d:\d\d\.\d+)\s+\d+ round_trippers\.go:\d+\] "Response" verb="(\w+)".* milliseconds=(\d+)/gm)].map((m) => {
    const day = new Date().toISOString().slice(0, 4);
    return { verb: m[4]!, at: Date.parse(`${day}-${m[1]}-${m[2]}T${m[3]!.slice(0, 12)}Z`) + Number(`0.${m[3]!.slice(12) || '0'}`) - Number(m[5]) };
  });
  return { firstRequest: sent[0]?.at, patchSent: sent.filter((s) => s.verb === 'PATCH').at(-1)?.at };
}
