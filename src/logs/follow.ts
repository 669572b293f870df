/**
 * Reading a container's log, and following it across connection drops and pod replacements. Written with
 * `https.request` instead of @kubernetes/client-node's Log, which never ends (or errors) the output when
 * the connection drops and cannot be aborted cleanly (../shared/reference/client-node.md §5).
 *
 * Every line is requested with its timestamp; after a drop the follow resumes at the last timestamp seen
 * (sinceTime has whole seconds), and lines of that second already printed are skipped.
 */
import type { IncomingMessage } from 'node:http';
import type { RequestOptions } from 'node:https';
import { NhError } from '../errors.js';
import type { ExecEndpoint } from '../kube/exec.js';
import { statusMessageSuffix } from '../kube/status-message.js';
import type { PodTracker, TrackedPod } from '../kube/pod-tracker.js';

export interface LogFollowOptions {
  readonly endpoint: ExecEndpoint;
  readonly pods: PodTracker;
  readonly container: string | undefined;
  readonly follow: boolean;
  /** Lines of history to start with (default 100). */
  readonly tailLines?: number;
  readonly signal: AbortSignal;
  readonly onLine: (line: string, pod: string) => void;
  /** Reconnects and pod switches, for the user to know. */
  readonly onNotice?: (message: string) => void;
}

/** `2026-11-30T05:04:13.123456789Z text` → its two parts. */
export function splitTimestamp(line: string): { timestamp: string | undefined; text: string } {
  const space = line.indexOf(' ');
  const head = space < 0 ? line : line.slice(0, space);
  return /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(head) ? { timestamp: head, text: space < 0 ? '' : line.slice(space + 1) } : { timestamp: undefined, text: line };
}

/** sinceTime for a resume: the second of the last line (the API takes whole seconds). */
export function resumeTime(timestamp: string): string {
  return `${timestamp.slice(0, 19)}Z`;
}

export function logPath(namespace: string, pod: string, query: Readonly<Record<string, string | undefined>>): string {
  const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log?${params.toString()}`;
}

const RETRY_MS = 500;

/** Prints the log (once, or following until the signal aborts); survives drops and pod replacements. */
export async function followLogs(options: LogFollowOptions): Promise<void> {
  let pod: TrackedPod | undefined = options.pods.current();
  let lastTimestamp: string | undefined;
  /** Lines already printed in lastTimestamp's second: a resume at that second sends them again. */
  let printedInSecond = new Set<string>();
  while (!options.signal.aborted) {
    if (!pod) {
      if (!options.follow) throw new NhError('NH_NO_DEV_POD', 'no ready pod to read the log of', { hint: 'check `nh status`; `nh logs -f` waits for one' });
      try {
        pod = await options.pods.nextPod(options.signal);
      } catch {
        return;
      }
    }
    const current = pod;
    const query = {
      container: options.container,
      timestamps: 'true',
      follow: String(options.follow),
      ...(lastTimestamp ? { sinceTime: resumeTime(lastTimestamp) } : { tailLines: String(options.tailLines ?? 100) }),
    };
    const stop = new AbortController();
    const off = options.pods.onChange((next) => next && next.uid !== current.uid && stop.abort());
    const onAbort = () => stop.abort();
    options.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await streamLines(options.endpoint, logPath(options.pods.namespace, current.name, query), stop.signal, (line) => {
        const { timestamp, text } = splitTimestamp(line);
        if (timestamp) {
          const second = timestamp.slice(0, 19);
          if (lastTimestamp && second < lastTimestamp.slice(0, 19)) return;
          const key = `${timestamp} ${text}`;
          if (printedInSecond.has(key)) return;
          if (!lastTimestamp || second !== lastTimestamp.slice(0, 19)) printedInSecond = new Set();
          printedInSecond.add(key);
          lastTimestamp = timestamp;
        }
        options.onLine(text, current.name);
      });
    } catch (error) {
      if (!options.follow) throw error;
      if (!options.signal.aborted && !stop.signal.aborted) options.onNotice?.(`log stream of ${current.name} dropped (${(error as Error).message}); reconnecting`);
    } finally {
      off();
      options.signal.removeEventListener('abort', onAbort);
    }
    if (!options.follow || options.signal.aborted) return;
    const next = options.pods.current();
    if (next && next.uid !== current.uid) {
      options.onNotice?.(`following the new pod ${next.name}`);
      // A new pod's log starts fresh: history of the old one must not hide it.
      lastTimestamp = undefined;
      printedInSecond = new Set();
      pod = next;
    } else {
      // The container restarted or the connection ended: resume on the same pod shortly.
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      pod = options.pods.current();
    }
  }
}

/** GETs `path` and calls onLine for each line until the response ends; rejects on HTTP or network errors. */
async function streamLines(endpoint: ExecEndpoint, path: string, signal: AbortSignal, onLine: (line: string) => void): Promise<void> {
  const url = new URL(endpoint.server.replace(/\/+$/, '') + path);
  const requestOptions: RequestOptions = {};
  await endpoint.applyToHTTPSOptions(requestOptions);
  const transport = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  await new Promise<void>((resolve, reject) => {
    const request = transport.request(url, { ...requestOptions, method: 'GET', signal }, (response: IncomingMessage) => {
      if ((response.statusCode ?? 0) >= 300) {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk.slice(0, 2048)));
        response.on('end', () => reject(new NhError('NH_KUBE_ERROR', `reading the log failed (HTTP ${response.statusCode ?? 0})${statusMessageSuffix(body)}`)));
        return;
      }
      let pending = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        const lines = (pending + chunk).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) onLine(line);
      });
      response.on('end', () => {
        if (pending) onLine(pending);
        resolve();
      });
      response.on('error', reject);
    });
    request.on('error', (error) => (signal.aborted ? resolve() : reject(error)));
    // A half-open connection would otherwise hang the follow for good.
    request.on('socket', (socket) => socket.setKeepAlive(true, 10_000));
    request.end();
  });
}
