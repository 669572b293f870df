/**
 * Which command a service runs and what tells that it is up: its `readinessCommand` exits 0 in its dev
 * container, or else it listens in its pod (read from the pod's socket table, see forward/listening-probe.ts)
 * on the remote port of its first portForward, or under --debug on its debug port (a debugger may hold the
 * program until you attach). A service with neither counts as up once its process runs.
 */
import type { ServiceConfig } from '../config/model.js';
import { probeListening } from '../forward/listening-probe.js';
import { openExec, type ExecEndpoint, type ExecTarget } from '../kube/exec.js';
import type { PodTracker } from '../kube/pod-tracker.js';
import { runToEnd } from '../kube/run-command.js';

const POLL_MS = 300;

/** The command nh runs: with hotReload, Nocalhost's hotReloadRun / hotReloadDebug when present. */
export function commandOf(service: ServiceConfig, debug: boolean): readonly string[] | undefined {
  const dev = service.containers[0]?.dev;
  const command = dev?.command;
  const run = (dev?.hotReload ? command?.hotReloadRun : undefined) ?? command?.run;
  const debugRun = (dev?.hotReload ? command?.hotReloadDebug : undefined) ?? command?.debug;
  return debug ? (debugRun ?? run) : run;
}

/** What tells that a dependency is up: its readiness command, else a port it listens on, else its process running. */
export type ReadinessCheck =
  | { readonly kind: 'command'; readonly command: readonly string[] }
  | { readonly kind: 'port'; readonly port: number }
  | { readonly kind: 'process' };

export function readinessCheck(service: ServiceConfig, debug: boolean): ReadinessCheck {
  const dev = service.containers[0]?.dev;
  if (dev?.readinessCommand) {
    // In workDir, as the service's own command runs: `sh -c 'cd "$1" && shift && exec "$@"' sh DIR CMD…`.
    return { kind: 'command', command: ['sh', '-c', 'cd "$1" && shift && exec "$@"', 'sh', dev.workDir, ...dev.readinessCommand] };
  }
  const port = (debug ? dev?.debug?.remotePort : undefined) ?? dev?.portForwards[0]?.remote;
  return port === undefined ? { kind: 'process' } : { kind: 'port', port };
}

export interface ServingWatch {
  readonly service: ServiceConfig;
  readonly pods: PodTracker;
  readonly check: ReadinessCheck;
  readonly endpoint: ExecEndpoint;
  /** False until the process was started (a service without a process is checked at once). */
  readonly started: () => boolean;
}

/** Resolves once the readiness check passes in the pod (true), or when the signal aborts (false). */
export async function waitUntilServing(watch: ServingWatch, signal: AbortSignal): Promise<boolean> {
  while (!signal.aborted) {
    await sleep(POLL_MS);
    if (!watch.started()) continue;
    const pod = watch.pods.current();
    if (!pod) continue;
    if (await passes(watch.check, watch.endpoint, { namespace: watch.pods.namespace, pod: pod.name, container: watch.service.containers[0]?.name }, signal)) return true;
  }
  return false;
}

async function passes(check: ReadinessCheck, endpoint: ExecEndpoint, target: ExecTarget, signal: AbortSignal): Promise<boolean> {
  switch (check.kind) {
    case 'process':
      return true;
    case 'port':
      return (await probeListening(endpoint, { namespace: target.namespace, pod: target.pod, port: check.port })) === undefined;
    case 'command':
      try {
        return (await runToEnd(endpoint, target, check.command, openExec, signal)).exitCode === 0;
      } catch {
        return false; // the exec could not run (pod going away): try again on the next poll
      }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
