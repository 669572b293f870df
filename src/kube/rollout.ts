/**
 * Waiting for a workload's rollout, with the real cause when it goes wrong: lists the workload's pods, then
 * watches them (server-side timeoutSeconds) and re-evaluates on every change until the deadline.
 */
import { NhError } from '../errors.js';
import type { KubeObject, WatchEvent } from '../model/kube-object.js';
import type { KubeClient } from './client.js';
import { devPodSelector, isReady } from './pods.js';

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** A line about what is happening now ("pod api-7f…: ContainerCreating"). */
  readonly onProgress: (line: string) => void;
}

type Verdict = { readonly done: true; readonly pod?: string } | { readonly done: false; readonly fatal: boolean; readonly why: string; readonly crashed?: { pod: string; container: string } };

/** Longest single watch: bounds how late a workload-level failure (quota, deadline) is noticed. */
const WATCH_SECONDS = 5;
const POLL_MS = 1000;

/** Resolves with the ready dev pod's name; throws NH_ROLLOUT_FAILED with the cause. */
export async function waitForDevPod(kube: KubeClient, namespace: string, workload: KubeObject, options: WaitOptions): Promise<string> {
  const selector = devPodSelector(workload);
  const verdict = await waitFor(kube, namespace, workload, selector ?? '', options, (current, pods) => devPodVerdict(current, pods));
  return verdict.pod ?? '';
}

/** Resolves when no dev pod is left (after `nh down`). */
export async function waitForDevPodsGone(kube: KubeClient, namespace: string, workload: KubeObject, options: WaitOptions): Promise<void> {
  const selector = devPodSelector(workload);
  await waitFor(kube, namespace, workload, selector ?? '', options, (_, pods) =>
    pods.length === 0 ? { done: true } : { done: false, fatal: false, why: `dev pod ${pods.map((p) => p.metadata.name).join(', ')} still there` },
  );
}

async function waitFor(
  kube: KubeClient,
  namespace: string,
  workload: KubeObject,
  selector: string,
  options: WaitOptions,
  evaluate: (current: KubeObject, pods: readonly KubeObject[]) => Verdict,
): Promise<{ pod?: string }> {
  const kind = workload.kind === 'StatefulSet' ? 'StatefulSet' : 'Deployment';
  const name = workload.metadata.name;
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  let last = 'waiting for the controller';
  for (;;) {
    const [current, pods] = await Promise.all([kube.get(kind, namespace, name), kube.list('Pod', namespace, { labelSelector: selector })]);
    if (!current) throw new NhError('NH_ROLLOUT_FAILED', `${kind} \`${name}\` was deleted while nh waited for it`);
    const verdict = evaluate({ ...current, kind }, pods.items);
    if (verdict.done) return verdict;
    if (verdict.fatal) {
      const logs = verdict.crashed ? await lastLogLines(kube, namespace, verdict.crashed.pod, verdict.crashed.container) : '';
      throw new NhError('NH_ROLLOUT_FAILED', verdict.why + (logs ? `\nlast log lines:\n${logs}` : ''), { hint: hintFor(verdict.why) });
    }
    if (verdict.why !== last) options.onProgress(verdict.why);
    last = verdict.why;
    const remaining = deadline - Date.now();
    if (remaining <= 0 || options.signal.aborted) {
      const events = await warningEvents(kube, namespace, pods.items.map((p) => p.metadata.name).concat(name), started);
      throw new NhError('NH_ROLLOUT_FAILED', `not ready after ${formatDuration(options.timeoutMs)}: ${last}${events ? `\n${events}` : ''}`, {
        hint: hintFor(`${last} ${events}`),
      });
    }
    await nextChange(kube, namespace, kind, name, selector, { pods: pods.resourceVersion, workload: current.metadata.resourceVersion ?? '' }, remaining, options.signal);
  }
}

/**
 * Resolves on the first event of the workload's pods or of the workload itself (its status says when the
 * rollout is done), or when the watches time out: that bounds how late anything else is seen.
 */
async function nextChange(kube: KubeClient, namespace: string, kind: 'Deployment' | 'StatefulSet', name: string, selector: string,
  versions: { pods: string; workload: string }, remainingMs: number, signal: AbortSignal): Promise<void> {
  const stop = new AbortController();
  const both = AbortSignal.any([signal, stop.signal]);
  const timeoutSeconds = Math.max(1, Math.min(WATCH_SECONDS, Math.ceil(remainingMs / 1000)));
  const changed = (event: WatchEvent) => event.type !== 'BOOKMARK';
  // A watch that fails (no `watch` permission, a dropped connection) degrades to polling; the next list tells.
  const orPoll = (watching: Promise<void>) => watching.catch(() => new Promise<void>((resolve) => setTimeout(resolve, POLL_MS)));
  try {
    await Promise.race([
      orPoll(kube.watch('Pod', namespace, { labelSelector: selector, resourceVersion: versions.pods, timeoutSeconds }, changed, both)),
      orPoll(kube.watch(kind, namespace, { fieldSelector: `metadata.name=${name}`, resourceVersion: versions.workload, timeoutSeconds }, changed, both)),
    ]);
  } finally {
    stop.abort();
  }
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
  if (/FailedMount|volume/i.test(cause)) return 'a volume of the pod cannot be mounted; check its Secret, ConfigMap or PVC';
  if (/schedul/i.test(cause)) return 'no node can run the dev pod; check its resource requests and node selectors';
  return 'raise --timeout if the pod is only slow; `kubectl describe pod` shows more';
}

export function formatDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
