/**
 * Follows the newest ready pod matching a label selector, across pod replacements: list, then watch from
 * the list's resourceVersion, and list again when the watch ends or fails (with a short capped backoff).
 * Port forwards, log follows and the process supervisor all ask it "which pod now?" and hear about changes.
 */
import type { KubeObject } from '../model/kube-object.js';
import type { KubeClient } from './client.js';
import { isReady } from './pods.js';

export interface TrackedPod {
  readonly name: string;
  readonly uid: string;
}

const WATCH_SECONDS = 240;
const MAX_BACKOFF_MS = 2_000;

export class PodTracker {
  private readonly pods = new Map<string, KubeObject>();
  private chosen: TrackedPod | undefined;
  private readonly listeners = new Set<(pod: TrackedPod | undefined) => void>();

  constructor(
    private readonly kube: KubeClient,
    readonly namespace: string,
    readonly selector: string,
  ) {}

  /** The newest ready pod, or undefined while there is none. */
  current(): TrackedPod | undefined {
    return this.chosen;
  }

  /** Called with the new pod (or undefined) whenever the chosen pod changes; returns the unsubscribe. */
  onChange(listener: (pod: TrackedPod | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The current pod, or the next one to become ready; rejects when the signal aborts. */
  async nextPod(signal: AbortSignal, unlike?: string): Promise<TrackedPod> {
    const now = this.chosen;
    if (now && now.uid !== unlike) return now;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        off();
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      const off = this.onChange((pod) => {
        if (!pod || pod.uid === unlike) return;
        off();
        signal.removeEventListener('abort', onAbort);
        resolve(pod);
      });
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Lists and watches until the signal aborts; errors are retried, never thrown. */
  async run(signal: AbortSignal, onError: (error: unknown) => void = () => undefined): Promise<void> {
    let backoff = 100;
    while (!signal.aborted) {
      try {
        const list = await this.kube.list('Pod', this.namespace, { labelSelector: this.selector });
        this.pods.clear();
        for (const pod of list.items) this.pods.set(pod.metadata.name, pod);
        this.choose();
        backoff = 100;
        let resourceVersion = list.resourceVersion;
        let gone = false;
        await this.kube.watch('Pod', this.namespace, { labelSelector: this.selector, resourceVersion, timeoutSeconds: WATCH_SECONDS }, (event) => {
          if (event.type === 'ERROR') {
            // 410 Gone and friends: start over from a fresh list.
            gone = true;
            return true;
          }
          resourceVersion = event.object.metadata.resourceVersion ?? resourceVersion;
          if (event.type === 'BOOKMARK') return false;
          if (event.type === 'DELETED') this.pods.delete(event.object.metadata.name);
          else this.pods.set(event.object.metadata.name, event.object);
          this.choose();
          return false;
        }, signal);
        if (gone) continue;
      } catch (error) {
        if (signal.aborted) return;
        onError(error);
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  private choose(): void {
    const next = newestReady([...this.pods.values()]);
    if (next?.uid === this.chosen?.uid) return;
    this.chosen = next;
    for (const listener of [...this.listeners]) listener(next);
  }
}

/** The newest pod that is ready and not being deleted. */
export function newestReady(pods: readonly KubeObject[]): TrackedPod | undefined {
  const ready = pods.filter(isReady).sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''));
  const pod = ready[0];
  // A StatefulSet's new pod has the old one's name: only the uid tells them apart.
  return pod ? { name: pod.metadata.name, uid: (pod.metadata as { uid?: string }).uid ?? pod.metadata.name } : undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
