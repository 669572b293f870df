// The Reflector: a watch the server ends resumes from its resourceVersion without a new list, an expired
// one (ERROR event) lists again, and watches cut short at once do not become a request loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeClient, WatchOptions } from '../../../src/kube/client.js';
import { Reflector } from '../../../src/kube/reflector.js';
import type { KubeObject, WatchEvent } from '../../../src/model/kube-object.js';

const pod = (name: string, resourceVersion: string): KubeObject => ({ metadata: { name, resourceVersion } });

/** A client whose watches replay the given scripts in turn (then end at once with nothing). */
function scriptedClient(scripts: WatchEvent[][]): { kube: KubeClient; lists: number; watches: WatchOptions[] } {
  const calls = { lists: 0, watches: [] as WatchOptions[] };
  const kube = {
    namespace: 'team', contextName: 'fake',
    list: async () => {
      calls.lists++;
      return { items: [pod('a', '1')], resourceVersion: '10' };
    },
    watch: async (_kind: string, _ns: string, options: WatchOptions, onEvent: (e: WatchEvent) => boolean) => {
      calls.watches.push(options);
      await new Promise((r) => setImmediate(r)); // a real round trip yields to timers
      for (const event of scripts.shift() ?? []) if (onEvent(event)) return;
    },
  } as unknown as KubeClient;
  return { kube, get lists() { return calls.lists; }, get watches() { return calls.watches; } };
}

test('resumes from the last resourceVersion after a normal end; lists again after an expired watch', async () => {
  const client = scriptedClient([
    [{ type: 'ADDED', object: pod('b', '11') }],
    [{ type: 'DELETED', object: pod('a', '12') }, { type: 'ERROR', object: { metadata: { name: '' } } }],
  ]);
  const stop = new AbortController();
  const mirror = new Reflector(client.kube, 'Pod', 'team', {}, () => undefined);
  const running = mirror.run(stop.signal);
  await new Promise((r) => setTimeout(r, 300));
  stop.abort();
  await running;
  assert.deepEqual(client.watches.slice(0, 3).map((w) => w.resourceVersion), ['10', '11', '10']);
  assert.equal(client.lists, 2, 'one list at the start, one after the expired watch');
  assert.deepEqual(mirror.objects().map((o) => o.metadata.name), ['a'], 'the second list replaced the mirror');
});

test('watches that end at once without events back off instead of looping', async () => {
  const client = scriptedClient([]);
  const stop = new AbortController();
  const running = new Reflector(client.kube, 'Pod', 'team', {}, () => undefined).run(stop.signal);
  await new Promise((r) => setTimeout(r, 1_000));
  stop.abort();
  await running;
  // 100 + 200 + 400 ms of backoff fit in a second: a handful of watches, not thousands.
  assert.ok(client.watches.length <= 5, `${client.watches.length} watches in 1 s`);
  assert.equal(client.lists, 1);
});

test('through an outage the list is retried at most about a second apart, and its end is reported once', async () => {
  const attempts: number[] = [];
  let down = true;
  let recovered = 0;
  const errors: unknown[] = [];
  const kube = {
    namespace: 'team', contextName: 'fake',
    list: async () => {
      attempts.push(Date.now());
      if (down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      return { items: [], resourceVersion: '1' };
    },
    watch: (_kind: string, _ns: string, _options: WatchOptions, _onEvent: unknown, signal: AbortSignal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve())),
  } as unknown as KubeClient;
  const stop = new AbortController();
  const running = new Reflector(kube, 'Pod', 'team', {}, () => undefined).run(stop.signal, (e) => errors.push(e), () => recovered++);
  await new Promise((r) => setTimeout(r, 4_000));
  down = false;
  await new Promise((r) => setTimeout(r, 1_300));
  stop.abort();
  await running;
  const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
  // The wait is capped low: however long the outage, the first try after it is soon.
  assert.ok(Math.max(...gaps) < 1_500, `gaps between tries: ${gaps.join(', ')} ms`);
  assert.equal(recovered, 1);
  assert.equal(errors.length, attempts.length - 1);
});
