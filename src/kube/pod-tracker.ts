/**
 * Follows the newest ready pod matching a label selector, across pod replacements (a Reflector of the
 * pods). Port forwards, log follows and the process supervisor all ask it "which pod now?" and hear about
 * changes.
 */
import type { KubeObject } from '../model/kube-object.js';
import type { KubeClient } from './client.js';
import { isReady, newestFirst } from './pods.js';
import { Reflector } from './reflector.js';

export interface TrackedPod {
  readonly name: string;
  readonly uid: string;
}

export class PodTracker {
  private readonly mirror: Reflector;
  private chosen: TrackedPod | undefined;
  private readonly listeners = new Set<(pod: TrackedPod | undefined) => void>();

  constructor(
    kube: KubeClient,
    readonly namespace: string,
    readonly selector: string,
  ) {
    this.mirror = new Reflector(kube, 'Pod', namespace, { labelSelector: selector }, () => this.choose());
  }

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

  /** Lists and watches until the signal aborts; errors are retried, never thrown (see Reflector.run). */
  run(signal: AbortSignal, onError: (error: unknown) => void = () => undefined, onRecovered: () => void = () => undefined): Promise<void> {
    return this.mirror.run(signal, onError, onRecovered);
  }

  private choose(): void {
    const next = newestReady(this.mirror.objects());
    if (next?.uid === this.chosen?.uid) return;
    this.chosen = next;
    for (const listener of [...this.listeners]) listener(next);
  }
}

/** The newest pod that is ready and not being deleted. */
export function newestReady(pods: readonly KubeObject[]): TrackedPod | undefined {
  const ready = pods.filter(isReady).sort(newestFirst);
  const pod = ready[0];
  // A StatefulSet's new pod has the old one's name: only the uid tells them apart.
  return pod ? { name: pod.metadata.name, uid: (pod.metadata as { uid?: string }).uid ?? pod.metadata.name } : undefined;
}
