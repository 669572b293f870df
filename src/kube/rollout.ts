/**
 * Waiting for workloads' rollouts, with the real cause when it goes wrong. One RolloutWatch per run
 * mirrors the namespace's dev pods and the workloads of the kinds waited on: a few API streams for a whole
 * app instead of a list and watches per service and per change (on a small machine those requests competed
 * with the kubelet for CPU). Every wait re-evaluates from the mirror on each change, and a final verdict
 * (ready, failed, gone) is confirmed by a fresh read, so a mirror a moment behind never ends a wait wrongly.
 */
import { NhError } from '../errors.js';
import { DEV_MODE_LABEL, DEV_MODE_VALUE } from '../model/dev-mode.js';
import type { KubeObject } from '../model/kube-object.js';
import type { KubeClient } from './client.js';
import { devPodSelector, isReady, selectorMatches } from './pods.js';
import { Reflector } from './reflector.js';

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** A line about what is happening now ("pod api-7f…: ContainerCreating"). */
  readonly onProgress: (line: string) => void;
}

type Verdict = { readonly done: true; readonly pod?: string } | { readonly done: false; readonly fatal: boolean; readonly why: string; readonly crashed?: { pod: string; container: string } };

export type WorkloadKind = 'Deployment' | 'StatefulSet';
type MirroredKind = WorkloadKind | 'Pod';

/** A workload and its dev pods, as mirrored or as read just now. */
interface Snapshot {
  readonly workload: KubeObject | undefined;
  readonly pods: readonly KubeObject[];
}

/** The dev pods and the workloads of one namespace, mirrored for every rollout wait of a run. */
export class RolloutWatch {
  private readonly mirrors = new Map<MirroredKind, { readonly mirror: Reflector; error?: Error }>();
  private readonly listeners = new Set<() => void>();
  private readonly stop = new AbortController();
  /** Grows with every change of any mirror: a wait that read at version v misses nothing that came after. */
  private changes = 0;

  constructor(
    readonly kube: KubeClient,
    readonly namespace: string,
  ) {}

  /** The mirrored workload and its dev pods; undefined until both mirrors listed once (throws if that failed). */
  snapshot(kind: WorkloadKind, name: string, selectorOf: KubeObject): Snapshot | undefined {
    const workloads = this.synced(kind);
    const pods = this.synced('Pod');
    if (!workloads || !pods) return undefined;
    return { workload: workloads.get(name), pods: pods.objects().filter((p) => selectorMatches(selectorOf, p.metadata.labels)) };
  }

  get version(): number {
    return this.changes;
  }

  /** Every mirrored object of a kind (a workload kind, or dev pods); undefined until it listed once (throws if that failed). */
  objects(kind: MirroredKind): KubeObject[] | undefined {
    return this.synced(kind)?.objects().map((object) => ({ ...object, kind }));
  }

  /** Resolves once a mirror changed after `version` (at once if it already did), after ms, or on abort. */
  changed(version: number, ms: number, signal: AbortSignal): Promise<void> {
    if (this.changes > version) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.listeners.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Starts the mirrors of these kinds and of dev pods now, so their first lists overlap the patches. */
  warm(kinds: readonly WorkloadKind[]): void {
    for (const kind of [...new Set(kinds), 'Pod' as const]) {
      try {
        this.synced(kind);
      } catch {
        // A failed first list fails the wait that reads it, not this.
      }
    }
  }

  close(): void {
    this.stop.abort();
  }

  private synced(kind: MirroredKind): Reflector | undefined {
    let entry = this.mirrors.get(kind);
    if (!entry) {
      // Only dev pods matter to a wait; workloads unfiltered, as `nh down` removes their dev label.
      const selectors = kind === 'Pod' ? { labelSelector: `${DEV_MODE_LABEL}=${DEV_MODE_VALUE}` } : {};
      const mirror = new Reflector(this.kube, kind, this.namespace, selectors, () => this.notify());
      const started: { readonly mirror: Reflector; error?: Error } = { mirror };
      entry = started;
      this.mirrors.set(kind, started);
      void mirror.run(this.stop.signal, (error) => {
        started.error = error instanceof Error ? error : new NhError('NH_INTERNAL', String(error));
        this.notify();
      });
    }
    if (entry.mirror.synced) return entry.mirror;
    // A first list that failed (RBAC, no such namespace) fails the wait, as a direct read would.
    if (entry.error !== undefined) throw entry.error;
    return undefined;
  }

  private notify(): void {
    this.changes++;
    for (const listener of [...this.listeners]) listener();
  }
}

/** Resolves with the ready dev pod's name; throws NH_ROLLOUT_FAILED with the cause. */
export async function waitForDevPod(watch: RolloutWatch, workload: KubeObject, options: WaitOptions): Promise<string> {
  const verdict = await waitFor(watch, workload, options, devPodVerdict);
  return verdict.pod ?? '';
}

/** Resolves when no dev pod is left (after `nh down`; `deleted`: the workload itself is being deleted, a dev copy). */
export async function waitForDevPodsGone(watch: RolloutWatch, workload: KubeObject, options: WaitOptions, deleted = false): Promise<void> {
  await waitFor(watch, workload, options, (_, pods) =>
    pods.length === 0 ? { done: true } : { done: false, fatal: false, why: `dev pod ${pods.map((p) => p.metadata.name).join(', ')} still there` }, deleted);
}

async function waitFor(
  watch: RolloutWatch,
  written: KubeObject,
  options: WaitOptions,
  evaluate: (current: KubeObject, pods: readonly KubeObject[]) => Verdict,
  deleted = false,
): Promise<{ pod?: string }> {
  const kind: WorkloadKind = written.kind === 'StatefulSet' ? 'StatefulSet' : 'Deployment';
  const name = written.metadata.name;
  const judge = (seen: Snapshot): Verdict =>
    seen.workload || deleted ? evaluate({ ...(seen.workload ?? written), kind }, seen.pods) : { done: false, fatal: true, why: `${kind} \`${name}\` was deleted while nh waited for it` };
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  let last = 'waiting for the controller';
  let podNames: string[] = [];
  for (;;) {
    const version = watch.version;
    const mirrored = watch.snapshot(kind, name, written);
    // A mirror that has not yet seen nh's own write (older generation) says nothing about this rollout.
    const current = mirrored && (!mirrored.workload || (mirrored.workload.metadata.generation ?? 0) >= (written.metadata.generation ?? 0)) ? mirrored : undefined;
    let verdict = current && judge(current);
    if (verdict && (verdict.done || verdict.fatal)) verdict = judge(await readNow(watch, kind, name, written));
    if (verdict?.done) return verdict;
    if (verdict?.fatal) {
      const logs = verdict.crashed ? await lastLogLines(watch.kube, watch.namespace, verdict.crashed.pod, verdict.crashed.container) : '';
      throw new NhError('NH_ROLLOUT_FAILED', verdict.why + (logs ? `\nlast log lines:\n${logs}` : ''), { hint: hintFor(verdict.why) });
    }
    if (current) podNames = current.pods.map((p) => p.metadata.name);
    if (verdict && verdict.why !== last) options.onProgress(verdict.why);
    if (verdict) last = verdict.why;
    const remaining = deadline - Date.now();
    if (remaining <= 0 || options.signal.aborted) {
      const events = await warningEvents(watch.kube, watch.namespace, podNames.concat(name), started);
      throw new NhError('NH_ROLLOUT_FAILED', `not ready after ${formatDuration(options.timeoutMs)}: ${last}${events ? `\n${events}` : ''}`, {
        hint: hintFor(`${last} ${events}`),
      });
    }
    await watch.changed(version, remaining, options.signal);
  }
}

async function readNow(watch: RolloutWatch, kind: WorkloadKind, name: string, selectorOf: KubeObject): Promise<Snapshot> {
  const [workload, pods] = await Promise.all([
    watch.kube.get(kind, watch.namespace, name),
    watch.kube.list('Pod', watch.namespace, { labelSelector: devPodSelector(selectorOf) ?? '' }),
  ]);
  return { workload, pods: pods.items };
}

interface ContainerStatus {
  readonly name: string;
  readonly image?: string;
  readonly ready?: boolean;
  readonly state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } };
}

interface PodStatus {
  readonly phase?: string;
  readonly conditions?: readonly { type: string; status: string; reason?: string; message?: string }[];
  readonly containerStatuses?: readonly ContainerStatus[];
  readonly initContainerStatuses?: readonly ContainerStatus[];
}

interface WorkloadStatus {
  readonly observedGeneration?: number;
  readonly replicas?: number;
  readonly updatedReplicas?: number;
  readonly readyReplicas?: number;
  readonly availableReplicas?: number;
  readonly currentRevision?: string;
  readonly updateRevision?: string;
  readonly conditions?: readonly { type: string; status: string; reason?: string; message?: string }[];
}

const IMAGE_FAILURES = new Set(['ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName']);
const CONFIG_FAILURES = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/** Done when the controller finished the rollout and one dev pod is ready; fatal on causes that do not heal. */
export function devPodVerdict(workload: KubeObject, pods: readonly KubeObject[]): Verdict {
  const status = (workload['status'] ?? {}) as WorkloadStatus;
  for (const c of status.conditions ?? []) {
    if (c.type === 'ReplicaFailure' && c.status === 'True') return { done: false, fatal: true, why: `cannot create the dev pod: ${c.message ?? c.reason}` };
    if (c.type === 'Progressing' && c.status === 'False') return { done: false, fatal: true, why: `rollout stopped: ${c.message ?? c.reason}` };
  }
  const live = pods.filter((p) => !p.metadata.deletionTimestamp);
  for (const pod of live) {
    const problem = podProblem(pod);
    if (problem) return problem;
  }
  const ready = live.find(isReady);
  const rolledOut = (status.observedGeneration ?? 0) >= (workload.metadata.generation ?? 0) && (status.updatedReplicas ?? 0) >= 1 && (status.replicas ?? 0) <= 1 &&
    (workload.kind !== 'StatefulSet' || status.currentRevision === status.updateRevision);
  if (ready && rolledOut) return { done: true, pod: ready.metadata.name };
  if (live.length === 0) return { done: false, fatal: false, why: pods.length ? 'waiting for the old pod to terminate' : 'waiting for the dev pod to be created' };
  return { done: false, fatal: false, why: describePending(live[0]!) };
}

function podProblem(pod: KubeObject): Verdict | undefined {
  const status = (pod['status'] ?? {}) as PodStatus;
  const name = pod.metadata.name;
  for (const c of [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])]) {
    const waiting = c.state?.waiting;
    if (!waiting?.reason) continue;
    const message = waiting.message ? `: ${waiting.message}` : '';
    if (IMAGE_FAILURES.has(waiting.reason)) {
      return { done: false, fatal: true, why: `pod ${name}: cannot pull image \`${c.image ?? '?'}\` of container \`${c.name}\` (${waiting.reason})${message}` };
    }
    if (waiting.reason === 'CrashLoopBackOff') {
      return { done: false, fatal: true, why: `pod ${name}: container \`${c.name}\` keeps crashing (CrashLoopBackOff)`, crashed: { pod: name, container: c.name } };
    }
    if (CONFIG_FAILURES.has(waiting.reason)) return { done: false, fatal: true, why: `pod ${name}: container \`${c.name}\` cannot start (${waiting.reason})${message}` };
  }
  return undefined;
}

function describePending(pod: KubeObject): string {
  const status = (pod['status'] ?? {}) as PodStatus;
  const unscheduled = status.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled) return `pod ${pod.metadata.name} cannot be scheduled (${unscheduled.reason ?? 'Unschedulable'}): ${unscheduled.message ?? ''}`.trim();
  const waiting = (status.containerStatuses ?? []).map((c) => c.state?.waiting?.reason).find(Boolean);
  return `pod ${pod.metadata.name}: ${waiting ?? status.phase ?? 'Pending'}`;
}

async function lastLogLines(kube: KubeClient, namespace: string, pod: string, container: string): Promise<string> {
  const text = await kube.logs(namespace, pod, { container, tailLines: 10, previous: true }).catch(() => '');
  return text.trimEnd().split('\n').filter(Boolean).map((l) => `  ${l}`).join('\n');
}

/** Warning events (FailedMount, FailedScheduling, FailedCreate…) of the given objects since `since`. */
async function warningEvents(kube: KubeClient, namespace: string, names: readonly string[], since: number): Promise<string> {
  const events = await kube.list('Event', namespace, { fieldSelector: 'type=Warning' }).catch(() => ({ items: [] as KubeObject[] }));
  const lines = events.items
    .filter((e) => names.includes((e['involvedObject'] as { name?: string } | undefined)?.name ?? ''))
    .filter((e) => Date.parse(eventTime(e)) >= since - 1000)
    .map((e) => `  ${String(e['reason'])}: ${String(e['message']).trim()}`);
  return [...new Set(lines)].slice(-5).join('\n');
}

function eventTime(event: KubeObject): string {
  const time = event['lastTimestamp'] ?? event['eventTime'];
  return typeof time === 'string' ? time : '';
}

function hintFor(cause: string): string {
  if (/pull image|ErrImage|ImagePull/.test(cause)) return 'check the dev image name and that the node can pull it (imagePullPolicy, registry credentials)';
  if (/CrashLoopBackOff/.test(cause)) return 'the dev image must have /bin/sh; see the log lines above';
  if (/quota|forbidden/i.test(cause)) return 'the namespace quota or an admission policy refuses the dev pod; lower containers[].dev.resources or ask for more quota';
  if (/PersistentVolume's node affinity|volume node affinity conflict/i.test(cause)) return 'a claim of the dev pod is bound to a volume on a node the pod may not run on (node selector, affinity, taints): let the workload run on that node, or delete the claim (`kubectl get pvc`) so a new one binds where it may';
  if (/FailedMount|volume/i.test(cause)) return 'a volume of the pod cannot be mounted; check its Secret, ConfigMap or PVC';
  if (/schedul/i.test(cause)) return 'no node can run the dev pod; check its resource requests and node selectors';
  return 'raise --timeout if the pod is only slow; `kubectl describe pod` shows more';
}

export function formatDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
