/**
 * Carries out the app part of a plan: record the run, the hooks before, the resources tier by tier (a
 * workload held by dependLabelSelector once what it waits for is ready), prunes, readiness, the hooks
 * after, then the record as installed. Every record write is conditional on the version read before, so two
 * runs at once cannot both go ahead. A failure leaves the record `failed` with the inventory of everything
 * that may have been applied: running again converges, and `nh uninstall` removes it all.
 */
import { NhError } from '../errors.js';
import { CORE, type ApiResource, type KubeClient } from '../kube/client.js';
import { AppWatch, controllerObserved, jobCondition, jobsComplete, normalizeSelector, podsReady, workloadReady, type Check } from '../kube/app-watch.js';
import { CONCURRENCY } from '../kube/observe-app.js';
import { mapLimit } from '../util/map-limit.js';
import { APP_LABEL, HOOK_LABEL, recordName, recordObject, resourceKey, type AppRecord, type InventoryItem } from '../model/app-record.js';
import type { KubeObject } from '../model/kube-object.js';
import type { ExecEndpoint } from '../kube/exec.js';
import { isReady } from '../kube/pods.js';
import { parseAddress, probeAddress, targetPort } from '../forward/address-probe.js';
import type { AppPlan, ResourceChange } from '../plan/app-types.js';

export interface AppExecuteDeps {
  readonly kube: KubeClient;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Workloads (`Kind/name`) dev mode replaces at once: waiting for their original pods would only slow `nh up`. */
  readonly skipReady: ReadonlySet<string>;
  readonly onProgress: (line: string) => void;
  /** For dependLabelSelector.tcp/.http: tunnels to the Service's pods. */
  readonly endpoint: () => Promise<ExecEndpoint>;
}

export interface AppOutcome {
  readonly status: 'done' | 'unchanged' | 'failed';
  readonly summary: string;
  readonly error?: NhError;
}

const POLL_MS = 250;
const HOOK_LOG_LINES = 30;

export async function executeAppPlan(plan: AppPlan, deps: AppExecuteDeps): Promise<AppOutcome> {
  if (plan.action === 'noop') return { status: 'unchanged', summary: plan.reason };
  if (plan.action === 'error') {
    const first = plan.problems[0];
    const error = new NhError(first?.code ?? 'NH_RENDER_FAILED', plan.problems.map((p) => p.message).join('\n'), { hint: first?.hint });
    return { status: 'failed', summary: plan.reason, error };
  }
  const run = new AppRun(plan, deps);
  try {
    return plan.action === 'uninstall' ? await run.uninstall() : await run.install();
  } finally {
    run.close();
  }
}

class AppRun {
  private readonly watch: AppWatch;
  private recordVersion: string | undefined;
  private applied = 0;

  constructor(
    private readonly plan: AppPlan,
    private readonly deps: AppExecuteDeps,
  ) {
    this.watch = new AppWatch(deps.kube, plan.namespace);
    this.recordVersion = plan.recordVersion;
  }

  close(): void {
    this.watch.close();
  }

  async install(): Promise<AppOutcome> {
    const plan = this.plan;
    const next = plan.next!;
    // Until it ends, the record lists everything this run may apply as well as what was there: nothing is orphaned.
    const union = new Map<string, InventoryItem>((plan.previous?.inventory ?? []).map((i) => [resourceKey(i), i]));
    for (const item of next.inventory) union.set(resourceKey(item), item);
    await this.writeRecord({ ...next, status: 'installing', inventory: [...union.values()] });
    try {
      for (const job of plan.hooks.before) await this.runHook(job, plan.hooks.phases[0]!);
      const changing = plan.resources.filter((r) => r.action === 'create' || r.action === 'update');
      const now = changing.filter((r) => !r.waitFor);
      const results = new Map<string, KubeObject>();
      for (const tier of [...new Set(now.map((r) => r.tier))].sort((a, b) => a - b)) {
        const batch = now.filter((r) => r.tier === tier);
        this.deps.onProgress(`applying ${batch.map(describe).join(', ')}`);
        await mapLimit(batch, CONCURRENCY, async (r) => void results.set(r.key, await this.apply(r)));
      }
      await Promise.all(changing.filter((r) => r.waitFor).map(async (r) => {
        await this.waitForDependencies(r);
        results.set(r.key, await this.apply(r));
      }));
      await this.prune(plan.resources.filter((r) => r.action === 'prune'));
      await this.waitReady(changing, results);
      for (const job of plan.hooks.after) await this.runHook(job, plan.hooks.phases[1]!);
      await this.writeRecord(next);
      const count = (a: string) => plan.resources.filter((r) => r.action === a).length;
      return { status: 'done', summary: `${plan.action === 'install' ? 'installed' : 'upgraded'} (revision ${next.revision}): ${count('create')} created, ${count('update')} updated, ${count('prune')} pruned` };
    } catch (error) {
      const cause = asNhError(error);
      const total = plan.resources.filter((r) => r.action === 'create' || r.action === 'update').length;
      await this.writeRecord({ ...next, status: 'failed', lastError: cause.message.split('\n')[0]!, inventory: [...union.values()] }).catch(() => undefined);
      const message = `${cause.message}\n${this.applied} of ${total} resources were applied; the app is recorded as failed`;
      return { status: 'failed', summary: cause.message.split('\n')[0]!, error: new NhError(cause.code, message, { hint: `${cause.hint ?? 'fix the cause'}; then run again (it converges), or \`nh uninstall\` to remove what was applied`, cause }) };
    }
  }

  async uninstall(): Promise<AppOutcome> {
    const plan = this.plan;
    const previous = plan.previous!;
    try {
      await this.writeRecord({ ...previous, status: 'uninstalling' });
      for (const job of plan.hooks.before) await this.runHook(job, 'preDelete');
      await this.prune(plan.resources.filter((r) => r.action === 'prune'));
      for (const job of plan.hooks.after) await this.runHook(job, 'postDelete');
      // The hook Jobs of earlier runs are kept for their logs until the app goes.
      const hooks = await this.deps.kube.list('Job', plan.namespace, { labelSelector: `${APP_LABEL}=${plan.app},${HOOK_LABEL}` });
      await this.prune(hooks.items.map((j) => ({ kind: 'Job', name: j.metadata.name, namespace: plan.namespace, resource: CORE.Job })));
      await this.deps.kube.deleteObject(CORE.ConfigMap, plan.namespace, recordName(plan.app));
      const kept = plan.resources.filter((r) => r.action === 'keep').length;
      return { status: 'done', summary: `uninstalled: ${plan.resources.length - kept} deleted${kept ? `, ${kept} left in place (not created by nh)` : ''}` };
    } catch (error) {
      const cause = asNhError(error);
      await this.writeRecord({ ...previous, status: 'failed', lastError: cause.message.split('\n')[0]! }).catch(() => undefined);
      return { status: 'failed', summary: cause.message.split('\n')[0]!, error: cause };
    }
  }

  private async writeRecord(record: AppRecord): Promise<void> {
    const written = await this.deps.kube.applyObject(CORE.ConfigMap, this.plan.namespace, recordObject(record, this.plan.namespace, this.recordVersion), { dryRun: false });
    this.recordVersion = written.metadata.resourceVersion;
  }

  private async apply(change: ResourceChange): Promise<KubeObject> {
    const result = await this.deps.kube.applyObject(change.resource!, change.namespace, change.object!, { dryRun: false });
    this.applied++;
    return result;
  }

  private async waitForDependencies(change: ResourceChange): Promise<void> {
    const { waits } = change.waitFor!;
    const checks: { what: string; check: () => Check | undefined }[] = [
      ...waits.pods.map(normalizeSelector).map((s) => ({ what: `pods ${s} Ready`, check: () => podsReady(this.watch, s) })),
      ...waits.jobs.map(normalizeSelector).map((s) => ({ what: `jobs ${s} complete`, check: () => jobsComplete(this.watch, s) })),
    ];
    const what = checks.map((c) => c.what).join(' and ');
    this.deps.onProgress(`${describe(change)} waits for ${what}`);
    await this.watch.until(() => {
      for (const { check } of checks) {
        const verdict = check();
        if (!verdict?.done) return verdict;
      }
      return { done: true };
    }, { timeoutMs: this.deps.timeoutMs, signal: this.deps.signal, onProgress: (line) => this.deps.onProgress(`${describe(change)}: ${line}`), what: `${what} (before ${describe(change)})` });
    const addresses = [...waits.tcp.map((a) => ({ text: a, kind: 'tcp' as const })), ...waits.http.map((a) => ({ text: a, kind: 'http' as const }))];
    await Promise.all(addresses.map((a) => this.waitForAddress(change, a.text, a.kind)));
  }

  /** A Service address answers through a tunnel to one of its ready pods; checked about once a second. */
  private async waitForAddress(change: ResourceChange, text: string, kind: 'tcp' | 'http'): Promise<void> {
    const address = parseAddress(text, kind);
    if (!address) {
      throw new NhError('NH_CONFIG_INVALID', `dependLabelSelector.${kind} \`${text}\` is not ${kind === 'tcp' ? 'SERVICE:PORT' : 'http://SERVICE:PORT/PATH'}`, {
        hint: 'name a Service of the namespace and one of its ports',
      });
    }
    const { kube, signal, timeoutMs } = this.deps;
    const endpoint = await this.deps.endpoint();
    const deadline = Date.now() + timeoutMs;
    let why = 'not checked yet';
    for (;;) {
      const service = await kube.getObject(CORE.Service, this.plan.namespace, address.service);
      const selector = Object.entries(((service?.['spec'] as { selector?: Record<string, string> } | undefined)?.selector) ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
      const pod = selector ? this.watch.objects('Pod', selector)?.find(isReady) : undefined;
      const port = service && pod ? targetPort(service, address.port, pod) : undefined;
      if (!service) why = `no Service \`${address.service}\` yet`;
      else if (!selector) why = `Service \`${address.service}\` has no selector`;
      else if (!pod) why = `no ready pod behind Service \`${address.service}\``;
      else if (port === undefined) why = `Service \`${address.service}\` has no port ${address.port}`;
      else {
        const failure = await probeAddress(endpoint, { namespace: this.plan.namespace, pod: pod.metadata.name, port }, address.path);
        if (!failure) return;
        why = failure;
      }
      this.deps.onProgress(`${describe(change)} waits for ${text}: ${why}`);
      if (Date.now() > deadline) throw new NhError('NH_WAIT_TIMEOUT', `timed out waiting for ${text} (before ${describe(change)}): ${why}`, { hint: 'raise --timeout, or check the Service and its pods' });
      if (signal.aborted) throw new NhError('NH_EXEC_ABORTED', `stopped while waiting for ${text}`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }

  /**
   * Waits for the workloads to be ready; those dev mode replaces at once only until their controller has seen
   * them (it then annotates them), so dev mode's conditional patch does not race that first write.
   */
  private async waitReady(changed: readonly ResourceChange[], results: ReadonlyMap<string, KubeObject>): Promise<void> {
    const workloads = changed.filter((r) => r.kind === 'Deployment' || r.kind === 'StatefulSet' || r.kind === 'DaemonSet');
    await Promise.all(workloads.map((r) => {
      const generation = results.get(r.key)?.metadata.generation ?? 0;
      const kind = r.kind as 'Deployment' | 'StatefulSet' | 'DaemonSet';
      const observedOnly = this.deps.skipReady.has(`${r.kind}/${r.name}`);
      return this.watch.until(
        () => (observedOnly ? controllerObserved(this.watch, kind, r.name, generation) : workloadReady(this.watch, kind, r.name, generation)),
        { timeoutMs: this.deps.timeoutMs, signal: this.deps.signal, onProgress: this.deps.onProgress, what: `${describe(r)} to be ${observedOnly ? 'seen by its controller' : 'ready'}` },
      );
    }));
  }

  private async prune(items: readonly Pick<ResourceChange, 'kind' | 'name' | 'namespace' | 'resource'>[]): Promise<void> {
    if (items.length === 0) return;
    this.deps.onProgress(`deleting ${items.map(describe).join(', ')}`);
    await mapLimit(items, CONCURRENCY, async (r) => {
      await this.deps.kube.deleteObject(r.resource!, r.namespace, r.name);
      await this.gone(r.resource!, r.namespace, r.name);
    });
  }

  /** Deletion of any kind, which has no typed mirror: a bounded poll. */
  private async gone(resource: ApiResource, namespace: string | undefined, name: string): Promise<void> {
    const deadline = Date.now() + this.deps.timeoutMs;
    while (await this.deps.kube.getObject(resource, namespace, name)) {
      if (Date.now() > deadline) {
        throw new NhError('NH_WAIT_TIMEOUT', `timed out waiting for ${resource.kind} \`${name}\` to be deleted`, { hint: `check its finalizers: \`kubectl get ${resource.plural} ${name} -o yaml\`` });
      }
      if (this.deps.signal.aborted) throw new NhError('NH_EXEC_ABORTED', `stopped while deleting ${resource.kind} \`${name}\``);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** A hook Job: the previous run's Job of that name goes first, then this one runs to completion. */
  private async runHook(job: KubeObject, phase: string): Promise<void> {
    const { kube, onProgress } = this.deps;
    const ns = this.plan.namespace;
    const name = job.metadata.name;
    onProgress(`${phase} hook Job ${name}: starting`);
    if (await kube.getObject(CORE.Job, ns, name)) {
      await kube.deleteObject(CORE.Job, ns, name);
      await this.gone(CORE.Job, ns, name);
    }
    await kube.applyObject(CORE.Job, ns, { ...job, metadata: { ...job.metadata, namespace: ns } }, { dryRun: false });
    await this.watch.until(() => {
      const seen = this.watch.objects('Job', HOOK_LABEL)?.find((j) => j.metadata.name === name);
      if (!seen) return seen === undefined && this.watch.objects('Job', HOOK_LABEL) ? { done: false, why: `${phase} hook Job ${name}: created` } : undefined;
      if (jobCondition(seen, 'Complete')) return { done: true };
      if (jobCondition(seen, 'Failed')) return { done: false, why: '', failed: `${phase} hook Job \`${name}\` failed` };
      return { done: false, why: `${phase} hook Job ${name}: running` };
    }, { timeoutMs: this.deps.timeoutMs, signal: this.deps.signal, onProgress, what: `${phase} hook Job ${name}` }).catch(async (error: unknown) => {
      const logs = await this.hookLogs(name);
      const cause = asNhError(error);
      throw new NhError('NH_HOOK_FAILED', `${cause.message}${logs ? `; its last log lines:\n${logs}` : ''}`, {
        hint: `see \`kubectl -n ${ns} describe job ${name}\`; the install stopped before anything after this hook`, cause,
      });
    });
    onProgress(`${phase} hook Job ${name}: complete`);
  }

  private async hookLogs(job: string): Promise<string> {
    try {
      const pods = await this.deps.kube.list('Pod', this.plan.namespace, { labelSelector: `job-name=${job}` });
      const newest = [...pods.items].sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''))[0];
      const container = (newest?.['spec'] as { containers?: { name: string }[] } | undefined)?.containers?.[0]?.name;
      if (!newest || !container) return '';
      const text = await this.deps.kube.logs(this.plan.namespace, newest.metadata.name, { container, tailLines: HOOK_LOG_LINES, previous: false });
      return text.trimEnd().split('\n').map((l) => `  ${l}`).join('\n');
    } catch {
      return ''; // the logs are a courtesy; the failure is reported either way
    }
  }
}

function describe(r: Pick<ResourceChange, 'kind' | 'name'>): string {
  return `${r.kind} ${r.name}`;
}

function asNhError(error: unknown): NhError {
  return error instanceof NhError ? error : new NhError('NH_INTERNAL', error instanceof Error ? error.message : String(error), { cause: error });
}
