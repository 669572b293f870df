/**
 * What an install waits on, mirrored: pods and Jobs by a dependency's label selector, hook Jobs, and the
 * app's workloads until they are ready. One Reflector per (kind, selector) serves every wait of a run, so
 * ten dependents of one database cost one pod stream, not ten polls.
 */
import { NhError } from '../errors.js';
import type { KubeObject, ResourceKind } from '../model/kube-object.js';
import type { KubeClient } from './client.js';
import { isReady } from './pods.js';
import { Reflector } from './reflector.js';

export type Check = { readonly done: true } | { readonly done: false; readonly why: string; readonly failed?: string };

export interface UntilOptions {
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly onProgress: (line: string) => void;
  /** What is awaited, for the timeout message: "pods app=db Ready". */
  readonly what: string;
}

export class AppWatch {
  private readonly mirrors = new Map<string, { readonly mirror: Reflector; error?: Error }>();
  private readonly listeners = new Set<() => void>();
  private readonly stop = new AbortController();

  constructor(
    readonly kube: KubeClient,
    readonly namespace: string,
  ) {}

  /** The objects of a kind (matching a label selector), or undefined until first listed. */
  objects(kind: ResourceKind, labelSelector = ''): KubeObject[] | undefined {
    const key = `${kind}|${labelSelector}`;
    let entry = this.mirrors.get(key);
    if (!entry) {
      const mirror = new Reflector(this.kube, kind, this.namespace, labelSelector ? { labelSelector } : {}, () => this.notify());
      const started: { readonly mirror: Reflector; error?: Error } = { mirror };
      entry = started;
      this.mirrors.set(key, started);
      void mirror.run(this.stop.signal, (error) => {
        started.error = error instanceof Error ? error : new NhError('NH_INTERNAL', String(error));
        this.notify();
      });
    }
    if (entry.mirror.synced) return entry.mirror.objects();
    if (entry.error !== undefined) throw entry.error;
    return undefined;
  }

  /** Re-evaluates `check` on every change until it is done; fails when it says failed, or at the timeout. */
  async until(check: () => Check | undefined, options: UntilOptions): Promise<void> {
    const deadline = Date.now() + options.timeoutMs;
    let last = 'waiting for the first list';
    for (;;) {
      const changed = this.nextChange(options.signal);
      const verdict = check();
      if (verdict?.done) return;
      if (verdict?.failed) throw new NhError('NH_WAIT_TIMEOUT', verdict.failed, { hint: 'fix the cause and run again; re-running converges' });
      if (verdict && verdict.why !== last) options.onProgress((last = verdict.why));
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new NhError('NH_WAIT_TIMEOUT', `timed out waiting for ${options.what}: ${last}`, {
          hint: 'raise --timeout, or check with `kubectl get pods,jobs` why it is not ready',
        });
      }
      if (options.signal.aborted) throw new NhError('NH_EXEC_ABORTED', `stopped while waiting for ${options.what}`);
      await Promise.race([changed, sleep(Math.min(left, 1_000))]);
    }
  }

  close(): void {
    this.stop.abort();
  }

  private nextChange(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.listeners.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.listeners.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** nhctl's rule: a selector without an operator names the `app` label. */
export function normalizeSelector(selector: string): string {
  return /[=!(]/.test(selector) || selector.includes(' in ') ? selector : `app=${selector.trim()}`;
}

export function podsReady(watch: AppWatch, selector: string): Check | undefined {
  const pods = watch.objects('Pod', selector)?.filter((p) => !p.metadata.deletionTimestamp);
  if (!pods) return undefined;
  const ready = pods.filter(isReady).length;
  if (pods.length > 0 && ready === pods.length) return { done: true };
  return { done: false, why: `pods ${selector}: ${pods.length === 0 ? 'none yet' : `${ready}/${pods.length} Ready`}` };
}

export function jobsComplete(watch: AppWatch, selector: string): Check | undefined {
  const jobs = watch.objects('Job', selector);
  if (!jobs) return undefined;
  const failed = jobs.find((j) => jobCondition(j, 'Failed'));
  if (failed) return { done: false, why: '', failed: `Job \`${failed.metadata.name}\` (${selector}) failed` };
  const complete = jobs.filter((j) => jobCondition(j, 'Complete')).length;
  if (jobs.length > 0 && complete === jobs.length) return { done: true };
  return { done: false, why: `jobs ${selector}: ${jobs.length === 0 ? 'none yet' : `${complete}/${jobs.length} complete`}` };
}

export function jobCondition(job: KubeObject, type: 'Complete' | 'Failed'): boolean {
  const conditions = (job['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === type && c.status === 'True');
}

/** The workload's controller has acted on nh's write (observedGeneration caught up). */
export function controllerObserved(watch: AppWatch, kind: 'Deployment' | 'StatefulSet' | 'DaemonSet', name: string, generation: number): Check | undefined {
  const w = watch.objects(kind)?.find((o) => o.metadata.name === name);
  if (!w) return watch.objects(kind) ? { done: false, why: `${kind} ${name}: not seen yet` } : undefined;
  const observed = ((w['status'] as { observedGeneration?: number } | undefined)?.observedGeneration) ?? 0;
  return observed >= generation ? { done: true } : { done: false, why: `${kind} ${name}: waiting for the controller` };
}

/** A workload nh applied is ready: its controller has seen the change and every replica is updated and available. */
export function workloadReady(watch: AppWatch, kind: 'Deployment' | 'StatefulSet' | 'DaemonSet', name: string, generation: number): Check | undefined {
  const objects = watch.objects(kind);
  if (!objects) return undefined;
  const w = objects.find((o) => o.metadata.name === name);
  if (!w) return { done: false, why: `${kind} ${name}: not seen yet` };
  const spec = (w['spec'] ?? {}) as { replicas?: number };
  const s = (w['status'] ?? {}) as Record<string, number | string | undefined>;
  if (((s['observedGeneration'] as number | undefined) ?? 0) < generation) return { done: false, why: `${kind} ${name}: waiting for the controller` };
  if (kind === 'DaemonSet') {
    const want = (s['desiredNumberScheduled'] as number | undefined) ?? 0;
    const ready = (s['numberReady'] as number | undefined) ?? 0;
    return ready >= want && (s['updatedNumberScheduled'] ?? 0) === want ? { done: true } : { done: false, why: `${kind} ${name}: ${ready}/${want} ready` };
  }
  const want = spec.replicas ?? 1;
  const ready = ((kind === 'Deployment' ? s['availableReplicas'] : s['readyReplicas']) as number | undefined) ?? 0;
  const updated = (s['updatedReplicas'] as number | undefined) ?? 0;
  return ready >= want && updated >= want ? { done: true } : { done: false, why: `${kind} ${name}: ${Math.min(ready, updated)}/${want} ready` };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
