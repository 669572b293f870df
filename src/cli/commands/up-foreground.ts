/**
 * The foreground part of `nh up` (after dev mode is entered): the dev loop of every selected service, its
 * output on the terminal, `--debug` attach help, and Ctrl-C. The first Ctrl-C (or SIGTERM, SIGHUP) stops the
 * processes in the containers, the forwards, sync and watches; a second one exits at once. Killed outright,
 * nh leaves the processes running: the next `nh up` stops them first (their group ids are in pid files in
 * the containers), and `nh down` replaces the pods anyway.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { AppConfig, ServiceConfig } from '../../config/model.js';
import { waitForDebugger } from '../../devloop/debugger-probe.js';
import { forwardsOf, runDevLoop, type DevLoopControl, type DevLoopService } from '../../devloop/dev-loop.js';
import { fromDevLoop } from '../../events/from-dev-loop.js';
import type { EventStream } from '../../events/session-event.js';
import { attachHint, launchConfigFor, mergeLaunchJson, type DebugTarget } from '../../devloop/launch-json.js';
import { startOrder } from '../../devloop/order.js';
import { NhError } from '../../errors.js';
import type { KubeClient } from '../../kube/client.js';
import type { ExecEndpoint } from '../../kube/exec.js';
import { PodTracker } from '../../kube/pod-tracker.js';
import { devPodSelector, devWorkloadFor } from '../../kube/pods.js';
import { createServiceSyncSessions } from '../../sync/services.js';
import { flag, stringOption, type ParsedCommandLine } from '../args.js';
import { loadAppConfig } from '../app-config.js';
import type { CliContext } from '../context.js';
import type { SessionActions, UpSession } from './up-session.js';
import type { ServiceDevMode } from './apply.js';
import { serviceInfo } from '../../events/from-session.js';

const SAME_SIGNAL_MS = 500;
const DEBUGGER_SLOW_MS = 15_000;

export async function runForeground(ctx: CliContext, args: ParsedCommandLine, session: UpSession, devMode: ServiceDevMode): Promise<number> {
  const config = loadAppConfig(ctx, args.options);
  const services = selectedServices(config, args.positionals);
  const clusterOptions = {
    kubeconfig: stringOption(args.options, 'kubeconfig'),
    context: stringOption(args.options, 'context'),
    namespace: stringOption(args.options, 'namespace'),
  };
  const [kube, endpoint] = await Promise.all([ctx.kube(clusterOptions), ctx.execEndpoint(clusterOptions)]);
  const debug = flag(args.options, 'debug');
  const { stream } = session;
  const abort = new AbortController();
  let firstSignalAt: number | undefined;
  const stop = () => {
    // One Ctrl-C can arrive twice (the terminal signals npx/npm too, and they pass it on): only a later one quits.
    if (firstSignalAt !== undefined) {
      if (Date.now() - firstSignalAt > SAME_SIGNAL_MS) process.exit(130);
      return;
    }
    firstSignalAt = Date.now();
    stream.emit({ type: 'notice', level: 'info', message: 'stopping… (Ctrl-C again to quit at once)' });
    abort.abort();
  };
  // SIGHUP: the terminal closed; stop as cleanly as on Ctrl-C rather than leave processes in the containers.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const name of signals) process.on(name, stop);
  try {
    const duplicateFor = flag(args.options, 'duplicate') ? ctx.identity : undefined;
    const loopServices = await Promise.all(services.map((service) => devLoopService(service, kube, endpoint, duplicateFor)));
    if (debug) prepareDebug(services, stream, ctx, abort.signal);
    await runDevLoop(loopServices, {
      endpoint, debug, signal: abort.signal, standby: !flag(args.options, 'no-standby'),
      onEvent: (event) => stream.emit(fromDevLoop(event)),
      onControl: (control) => session.attach(sessionActions({ ctx, control, config, kube, endpoint, duplicateFor, devMode, stream, signal: abort.signal })),
    });
    session.attach(undefined);
    if (!flag(args.options, 'down-on-exit')) {
      stream.emit({ type: 'notice', level: 'info', message: `dev mode stays on for ${services.map((s) => s.name).join(', ')}; \`nh down\` restores the workloads` });
    }
    return 0;
  } finally {
    session.view()?.clear();
    for (const name of signals) process.off(name, stop);
    abort.abort();
    kube.close();
  }
}

function selectedServices(config: AppConfig, names: readonly string[]): ServiceConfig[] {
  const chosen = names.length ? config.services.filter((s) => names.includes(s.name)) : config.services;
  const order = startOrder(chosen);
  return order.map((name) => chosen.find((s) => s.name === name)!);
}

async function devLoopService(service: ServiceConfig, kube: KubeClient, endpoint: ExecEndpoint, duplicateFor: string | undefined): Promise<DevLoopService> {
  const workload = await devWorkloadFor(kube, kube.namespace, service.workload, duplicateFor);
  const selector = workload && devPodSelector(workload);
  if (!selector) {
    throw new NhError('NH_NO_DEV_POD', `${service.name}: ${service.workload.kind} \`${service.workload.name}\` is not in namespace \`${kube.namespace}\` or has no pod selector`, {
      hint: 'check the namespace (-n) and the workload name in the config',
    });
  }
  const pods = new PodTracker(kube, kube.namespace, selector);
  return {
    config: service,
    pods,
    sync: async (onEvent, signal) => {
      const sessions = createServiceSyncSessions([service], { kube, namespace: kube.namespace, endpoint, onEvent, duplicateFor });
      await Promise.all(sessions.map((session) => session.run(signal)));
    },
  };
}

interface ActionParts {
  readonly ctx: CliContext;
  readonly control: DevLoopControl;
  readonly config: AppConfig;
  readonly kube: KubeClient;
  readonly endpoint: ExecEndpoint;
  readonly duplicateFor: string | undefined;
  readonly devMode: ServiceDevMode;
  readonly stream: EventStream;
  readonly signal: AbortSignal;
}

/**
 * The page's actions on the running loop. Re-sync compares the container's files with the local tree by hash
 * (drift: files changed in the container, or edits the watcher missed), sends what differs, and restarts
 * the process when anything was sent and hotReload is on. Enter and leave put one service of the config into
 * or out of dev mode (as `nh up SERVICE --detach` and `nh down SERVICE` do) and into or out of the loop;
 * debug runs a service again with its debug command and its debug port forwarded, entering dev mode first
 * when it is not in the session.
 */
function sessionActions(parts: ActionParts): SessionActions {
  const { control, config, stream } = parts;
  const find = (name: string) => {
    const service = config.services.find((s) => s.name === name);
    if (!service) throw new NhError('NH_UNKNOWN_SERVICE', `no service \`${name}\` in the config of app ${config.name}`, { hint: `services: ${config.services.map((s) => s.name).join(', ')}` });
    return service;
  };
  const inSession = (name: string) => {
    const service = find(name);
    if (!control.has(name)) throw new NhError('NH_NOT_IN_SESSION', `${name} is not in this session`, { hint: 'enter dev mode for it first' });
    return service;
  };
  const enter = async (service: ServiceConfig) => {
    const outcome = await parts.devMode('up', service.name);
    if (outcome.status !== 'done' && outcome.status !== 'unchanged') throw outcome.error ?? new NhError('NH_ROLLOUT_FAILED', `${service.name}: ${outcome.summary}`);
    return outcome;
  };
  const join = async (service: ServiceConfig, debug: boolean) => {
    await control.add(await devLoopService(service, parts.kube, parts.endpoint, parts.duplicateFor), debug);
    stream.emit({ type: 'service', service: service.name, change: 'joined', debug, info: serviceInfo(service, debug) });
    if (debug) prepareDebug([service], stream, parts.ctx, parts.signal);
  };
  return {
    restart: async (name) => {
      inSession(name);
      return (await control.restart(name)) === undefined ? `${name} did not start (see its state)` : `${name} restarted`;
    },
    resync: async (name) => {
      const service = inSession(name);
      let differences = 0;
      for (const sync of createServiceSyncSessions([service], { kube: parts.kube, namespace: parts.kube.namespace, endpoint: parts.endpoint })) {
        differences += (await sync.check(parts.signal)).differences.length;
        if (differences) await sync.syncOnce(parts.signal);
      }
      if (differences === 0) return `${name}: no drift, the container has the local files`;
      if (service.containers[0]?.dev.hotReload) await control.restart(name);
      return `${name}: ${differences} file${differences === 1 ? '' : 's'} differed; synced${service.containers[0]?.dev.hotReload ? ' and restarted' : ''}`;
    },
    enter: async (name) => {
      const service = find(name);
      if (control.has(name)) throw new NhError('NH_SERVICE_RUNNING', `${name} is already in this session`, { hint: 'leave dev mode for it first, or restart it' });
      const outcome = await enter(service);
      await join(service, false);
      return `${name}: ${outcome.summary}; it runs after its first sync`;
    },
    leave: async (name) => {
      const service = inSession(name);
      await control.remove(name);
      stream.emit({ type: 'service', service: name, change: 'left', debug: false, info: serviceInfo(service, false) });
      const outcome = await parts.devMode('down', name);
      if (outcome.status !== 'done' && outcome.status !== 'unchanged') {
        // Still in dev mode on the cluster: back into the loop, so the session keeps following it.
        await join(service, false).catch(() => undefined);
        throw outcome.error ?? new NhError('NH_RESTORE_FAILED', `${name}: ${outcome.summary}`);
      }
      return `${name} left dev mode: ${outcome.summary}`;
    },
    debug: async (name) => {
      const service = find(name);
      const port = service.containers[0]?.dev.debug?.remotePort;
      if (port === undefined) throw new NhError('NH_NO_DEBUG', `${name} has no debug port in the config`, { hint: 'set dev.debug.remoteDebugPort (and dev.command.debug) for its container' });
      if (control.has(name)) await control.remove(name);
      else await enter(service);
      await join(service, true);
      return `${name} runs under the debugger; attach to 127.0.0.1:${port} once it says ready`;
    },
  };
}

/** Writes the VS Code configurations, then says how to attach once each debugger answers. */
function prepareDebug(services: readonly ServiceConfig[], stream: EventStream, ctx: CliContext, signal: AbortSignal): void {
  const byFolder = new Map<string, DebugTarget[]>();
  for (const service of services) {
    const dev = service.containers[0]?.dev;
    if (!dev?.debug) continue;
    const local = forwardsOf(service, true).find((f) => f.remote === dev.debug!.remotePort)!.local;
    const folder = service.source.root;
    const target: DebugTarget = { service: service.name, language: dev.debug.language, localPort: local, localDir: relative(folder, dev.sync.localRoot), remoteDir: dev.workDir };
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), target]);
    // Say so when the debugger takes long (a first Go build under dlv), so the wait does not look like a hang.
    const slow = setTimeout(() => stream.emit({ type: 'notice', service: service.name, level: 'info', message: `waiting for the debugger on 127.0.0.1:${local}…` }), DEBUGGER_SLOW_MS);
    void waitForDebugger(target.language, local, signal).then((answered) => {
      clearTimeout(slow);
      if (answered) stream.emit({ type: 'debugger', service: service.name, port: local, language: target.language ?? 'unknown', attach: attachHint(target) });
    });
  }
  for (const [folder, targets] of byFolder) {
    const configs = targets.map(launchConfigFor).filter((c) => c !== undefined);
    if (configs.length === 0) continue;
    const path = join(folder, '.vscode', 'launch.json');
    const result = mergeLaunchJson(existsSync(path) ? readFileSync(path, 'utf8') : undefined, configs);
    if (result.added.length) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, result.text);
      stream.emit({ type: 'notice', level: 'info', message: `${ctx.files.display(path)}: added ${result.added.map((n) => `"${n}"`).join(', ')}` });
    }
    if (result.kept.length) stream.emit({ type: 'notice', level: 'info', message: `${ctx.files.display(path)}: ${result.kept.map((n) => `"${n}"`).join(', ')} already there, left as is` });
  }
}
