/**
 * An in-memory mirror of the objects of one kind in a namespace (optionally filtered by selectors): list,
 * then watch from the list's resourceVersion, and list again when the watch ends or fails (with a short
 * capped backoff, so a client without `watch` permission degrades to polling). One stream serves every
 * reader: the pod tracker of a service, the rollout waits of a whole app.
 */
import type { KubeObject, ResourceKind } from '../model/kube-object.js';
import type { KubeClient, ListOptions } from './client.js';

const WATCH_SECONDS = 240;
const FIRST_BACKOFF_MS = 100;
/** Low: after an outage the cluster is back within this of its return, however long it was away. */
const MAX_BACKOFF_MS = 1_000;
/** A watch that ends sooner than this without an event was cut short, not timed out by the server. */
const SHORT_WATCH_MS = 1_000;

export class Reflector {
  private readonly store = new Map<string, KubeObject>();
  private listed = false;

  constructor(
    private readonly kube: KubeClient,
    readonly kind: ResourceKind,
    readonly namespace: string,
    private readonly selectors: ListOptions,
    /** Called after every list and every event that changed the mirror. */
    private readonly onChange: () => void,
  ) {}

  /** True once the first list is in: before that, an empty mirror means "not known yet", not "none". */
  get synced(): boolean {
    return this.listed;
  }

  get(name: string): KubeObject | undefined {
    return this.store.get(name);
  }

  objects(): KubeObject[] {
    return [...this.store.values()];
  }

  /**
   * Lists and watches until the signal aborts; errors go to onError and are retried, never thrown.
   * onRecovered is called when a list succeeds after an error.
   */
  async run(signal: AbortSignal, onError: (error: unknown) => void = () => undefined, onRecovered: () => void = () => undefined): Promise<void> {
    let backoff = FIRST_BACKOFF_MS;
    let failing = false;
    // Where the next watch starts; undefined means list first.
    let resourceVersion: string | undefined;
    while (!signal.aborted) {
      try {
        if (resourceVersion === undefined) {
          const list = await this.kube.list(this.kind, this.namespace, this.selectors);
          this.store.clear();
          for (const object of list.items) this.store.set(object.metadata.name, { ...object, kind: this.kind });
          this.listed = true;
          this.onChange();
          resourceVersion = list.resourceVersion;
          backoff = FIRST_BACKOFF_MS;
          if (failing) onRecovered();
          failing = false;
        }
        // A watch the server ends normally resumes where it stopped; an expired one (410 Gone) lists again.
        const started = Date.now();
        const watched = await this.watchFrom(resourceVersion, signal);
        resourceVersion = watched.resourceVersion;
        if (watched.events > 0 || Date.now() - started >= SHORT_WATCH_MS) {
          backoff = FIRST_BACKOFF_MS;
        } else {
          // Something between nh and the server ends watches at once: do not turn that into a request loop.
          await sleep(backoff, signal);
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        }
      } catch (error) {
        if (signal.aborted) return;
        resourceVersion = undefined;
        failing = true;
        onError(error);
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  /** One watch; resolves with the resourceVersion to resume from (undefined when it expired) and how many events came. */
  private async watchFrom(resourceVersion: string, signal: AbortSignal): Promise<{ resourceVersion: string | undefined; events: number }> {
    let version: string | undefined = resourceVersion;
    let events = 0;
    await this.kube.watch(this.kind, this.namespace, { ...this.selectors, resourceVersion, timeoutSeconds: WATCH_SECONDS }, (event) => {
      if (event.type === 'ERROR') {
        version = undefined;
        return true;
      }
      version = event.object.metadata.resourceVersion ?? version;
      events++;
      if (event.type === 'BOOKMARK') return false;
      if (event.type === 'DELETED') this.store.delete(event.object.metadata.name);
      else this.store.set(event.object.metadata.name, { ...event.object, kind: this.kind });
      this.onChange();
      return false;
    }, signal);
    return { resourceVersion: version, events };
  }
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
