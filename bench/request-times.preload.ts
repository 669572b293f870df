/**
 * Preloaded (`node --import`) by the floor benchmark's dev-mode timeline into each `nh up --detach` it times:
 * at exit, writes one last stderr line, `nh-requests JSON`, with every HTTP request the process made (method,
 * path without its query, wall-clock start and response end in epoch ms, the CPU time used by its start),
 * Node's own start-up milestones and the process's start and exit on the same clock, so the bench can put them beside what its watches saw.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { writeSync } from 'node:fs';
import { performance as nodePerformance } from 'node:perf_hooks';

interface RequestTimes {
  readonly method: string;
  readonly path: string;
  readonly start: number;
  readonly cpuAtStart: number;
  end?: number;
}

const now = () => performance.timeOrigin + performance.now();
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const requests: RequestTimes[] = [];
const open = new WeakMap<ClientRequest, RequestTimes>();

subscribe('http.client.request.start', (message) => {
  const { request } = message as { request: ClientRequest };
  const times: RequestTimes = { method: request.method, path: request.path.split('?')[0]!, start: now(), cpuAtStart: cpuMs() };
  requests.push(times);
  open.set(request, times);
});
subscribe('http.client.response.finish', (message) => {
  const { request } = message as { request: ClientRequest; response: IncomingMessage };
  const times = open.get(request);
  if (times) times.end = now();
});

process.on('exit', () => {
  // Node's own start, before any JavaScript: V8 up (after OpenSSL's init, which parses NODE_EXTRA_CA_CERTS), then its bootstrap.
  const { v8Start, bootstrapComplete } = nodePerformance.nodeTiming;
  const node = { v8Start: performance.timeOrigin + v8Start, bootstrapComplete: performance.timeOrigin + bootstrapComplete };
  writeSync(2, `\nnh-requests ${JSON.stringify({ started: performance.timeOrigin, ...node, exited: now(), cpu: cpuMs(), requests })}\n`);
});
