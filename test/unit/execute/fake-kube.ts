// An in-memory KubeClient: workloads patched with the API server's resourceVersion rule, pods derived from
// each workload's template (ready, or stuck with a given waiting reason), and watches that report what
// changed since they started.
import type { ApiResource, KubeClient, KubeList, ListOptions, WatchOptions } from '../../../src/kube/client.js';
import { KubeError } from '../../../src/kube/errors.js';
import type { JsonPatchOp, KubeObject, ResourceKind, WatchEvent } from '../../../src/model/kube-object.js';
import { applyPatch } from '../plan/builders.js';

export class FakeKube implements KubeClient {
  readonly namespace = 'team';
  readonly contextName = 'fake';
  readonly objects = new Map<string, KubeObject>();
  readonly patches: string[] = [];
  /** Workload name → waiting reason its dev pod is stuck in. */
  readonly stuck = new Map<string, string>();
  private readonly changeListeners = new Set<() => void>();

  put(kind: ResourceKind, object: KubeObject): void {
    this.objects.set(`${kind}/${object.metadata.name}`, object);
    this.changed();
  }

  async get(kind: ResourceKind, _ns: string, name: string): Promise<KubeObject | undefined> {
    const object = this.objects.get(`${kind}/${name}`);
    return object && withStatus(object);
  }

  async list(kind: ResourceKind, _ns: string, options: ListOptions = {}): Promise<KubeList> {
    if (kind === 'Pod') return { items: this.pods(options.labelSelector ?? ''), resourceVersion: '1' };
    const items = [...this.objects.entries()].filter(([key]) => key.startsWith(`${kind}/`)).map(([, o]) => withStatus(o));
    const selected = options.labelSelector ? items.filter((o) => o.metadata.labels?.[options.labelSelector!] !== undefined) : items;
    return { items: selected, resourceVersion: '1' };
  }

  /**
   * For each coming write, how many tries of it find the object's resourceVersion moved on just before, as a
   * controller's status updates do during a rollout.
   */
  statusChurn: number[] = [];

  async patch(kind: ResourceKind, _ns: string, name: string, ops: readonly JsonPatchOp[]): Promise<KubeObject> {
    const key = `${kind}/${name}`;
    if (this.statusChurn[0]) {
      this.statusChurn[0]--;
      const moved = this.objects.get(key)!;
      this.objects.set(key, { ...moved, metadata: { ...moved.metadata, resourceVersion: String(Number(moved.metadata.resourceVersion) + 1) } });
    } else {
      this.statusChurn.shift();
    }
    const current = this.objects.get(key)!;
    const precondition = ops.find((op) => op.path === '/metadata/resourceVersion');
    if (precondition && 'value' in precondition && precondition.value !== current.metadata.resourceVersion) {
      throw new KubeError('NH_KUBE_CONFLICT', 'conflict', 409, {});
    }
    const next = applyPatch(current, ops);
    this.objects.set(key, next);
    this.patches.push(key);
    this.changed();
    return next;
  }

  async create(): Promise<KubeObject> {
    throw new Error('not used');
  }

  async patchDocument(): Promise<KubeObject> {
    throw new Error('not used');
  }

  async delete(): Promise<void> {}

  /** Reports the differences of the listed objects on every change, for at most 1.5 s (as a short server-side timeout). */
  async watch(kind: ResourceKind, ns: string, options: WatchOptions, onEvent: (event: WatchEvent) => boolean, signal: AbortSignal): Promise<void> {
    let before = new Map((await this.list(kind, ns, options)).items.map((o) => [o.metadata.name, o]));
    await new Promise<void>((resolve) => {
      const end = () => {
        clearTimeout(timer);
        this.changeListeners.delete(report);
        signal.removeEventListener('abort', end);
        resolve();
      };
      const report = () => void this.list(kind, ns, options).then(({ items }) => {
        const after = new Map(items.map((o) => [o.metadata.name, o]));
        for (const [name, object] of after) {
          const old = before.get(name);
          if (!old) onEvent({ type: 'ADDED', object });
          else if (JSON.stringify(old) !== JSON.stringify(object)) onEvent({ type: 'MODIFIED', object });
        }
        for (const [name, object] of before) if (!after.has(name)) onEvent({ type: 'DELETED', object });
        before = after;
      });
      const timer = setTimeout(end, 1_500);
      this.changeListeners.add(report);
      signal.addEventListener('abort', end, { once: true });
    });
  }

  async logs(): Promise<string> {
    return '';
  }

  close(): void {}

  // The app's generic resources are not modelled here: the executor and rollout tests never reach them.
  async resourceFor(): Promise<undefined> {
    throw new Error('FakeKube does not model discovery');
  }

  async getObject(): Promise<undefined> {
    throw new Error('FakeKube does not model generic resources');
  }

  async applyObject(): Promise<KubeObject> {
    throw new Error('FakeKube does not model server-side apply');
  }

  async deleteObject(): Promise<void> {
    throw new Error('FakeKube does not model generic resources');
  }

  /** The fake namespace has no ResourceQuota or LimitRange; other kinds are not modelled. */
  async listObjects(resource: ApiResource): Promise<KubeList> {
    if (resource.kind === 'ResourceQuota' || resource.kind === 'LimitRange') return { items: [], resourceVersion: '1' };
    throw new Error('FakeKube does not model generic resources');
  }

  async requestToken(): Promise<{ token: string; expires: string }> {
    throw new Error('FakeKube does not model tokens');
  }

  async whoAmI(): Promise<string> {
    return 'fake-admin';
  }

  readonly server = { url: 'https://fake', certificateAuthorityData: undefined };

  private changed(): void {
    for (const listener of [...this.changeListeners]) listener();
  }

  /** One pod per workload whose template labels match the selector (`k=v,k2=v2`). */
  private pods(selector: string): KubeObject[] {
    const wanted = selector.split(',').filter(Boolean).map((p) => p.split('='));
    const pods: KubeObject[] = [];
    for (const [key, workload] of this.objects) {
      if (!key.startsWith('Deployment/')) continue;
      const labels = (workload['spec'] as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
      if (!wanted.every(([k, v]) => labels[k!] === v)) continue;
      const reason = this.stuck.get(workload.metadata.name);
      pods.push({
        metadata: { name: `${workload.metadata.name}-pod`, labels, creationTimestamp: '2026-11-30T10:00:00Z' },
        status: reason
          ? { phase: 'Pending', containerStatuses: [{ name: 'api', image: 'dev/node:20', state: { waiting: { reason, message: 'no such image' } } }] }
          : { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
      });
    }
    return pods;
  }
}

/** As if the controller had rolled the workload out already. */
function withStatus(object: KubeObject): KubeObject {
  const generation = object.metadata.generation ?? 1;
  return { ...object, status: { observedGeneration: generation, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 } };
}
