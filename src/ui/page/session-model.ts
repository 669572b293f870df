/**
 * What the page knows of the session (pure, no DOM): the stream's events folded into one model per
 * service, the plan, and the log buffer. `reset` starts over from a replay of the current state.
 */
import type { PlannedService, ProcessView, ServiceInfo, SessionEvent } from '../../events/session-event.js';
import type { ForwardState } from '../../forward/port-forward.js';
import { LogBuffer } from './log-buffer.js';

export interface ServiceModel {
  readonly name: string;
  info: ServiceInfo | undefined;
  /** In this session's loop (false: a service of the config the page can bring into dev mode). */
  inSession: boolean;
  /** It runs its debug command. */
  debug: boolean;
  /** Bumped by every event about it: a card is drawn again only when this changed. */
  revision: number;
  devMode: { status: string; message: string; pod?: string | undefined } | undefined;
  process: ProcessView | undefined;
  sync: string;
  lastSync: { files: number; bytes: number; latencyMs: number; initial: boolean; time: string } | undefined;
  lastReload: { files: number; saveToSyncedMs: number; syncedToRestartedMs: number; time: string } | undefined;
  forwards: Map<number, ForwardState>;
  debugger: { port: number; attach: string } | undefined;
  lastError: { code: string; message: string; hint: string | undefined; time: string } | undefined;
  /** Latest seq at which this service's process started running (for "restarted" cues). */
  runningSince: string | undefined;
}

export interface SessionModel {
  app: string;
  namespace: string;
  debug: boolean;
  services: Map<string, ServiceModel>;
  plan: { app?: { name: string; action: string; reason: string } | undefined; services: readonly PlannedService[] } | undefined;
  /** The app's install or upgrade: its latest step or outcome. */
  install: { app: string; status: string; message: string } | undefined;
  waitingFor: { what: string; cause: string; since: string } | undefined;
  notices: { level: string; message: string; service?: string | undefined; time: string }[];
  ended: { reason: string; message?: string | undefined; time: string } | undefined;
  logs: LogBuffer;
  /** Events folded so far (the page shows the rate). */
  eventCount: number;
}

const MAX_NOTICES = 50;

export function emptyModel(): SessionModel {
  return { app: '', namespace: '', debug: false, services: new Map(), plan: undefined, install: undefined, waitingFor: undefined, notices: [], ended: undefined, logs: new LogBuffer(), eventCount: 0 };
}

function serviceOf(model: SessionModel, name: string): ServiceModel {
  let service = model.services.get(name);
  if (!service) {
    service = {
      name, info: undefined, inSession: true, debug: false, revision: 0, devMode: undefined, process: undefined, sync: 'starting',
      lastSync: undefined, lastReload: undefined, forwards: new Map(), debugger: undefined, lastError: undefined, runningSince: undefined,
    };
    model.services.set(name, service);
  }
  service.revision++;
  return service;
}

/** Folds one event into the model (mutating it: thousands of log lines a second must not copy it). */
export function applyEvent(model: SessionModel, event: SessionEvent): void {
  model.eventCount++;
  switch (event.type) {
    case 'session-start':
      model.app = event.app;
      model.namespace = event.namespace;
      model.debug = event.debug;
      // The services of the session (or, for `nh ui`, those in dev mode now), then the config's others: the rest go.
      model.services = new Map([...event.services.map((info) => [info, true] as const), ...(event.others ?? []).map((info) => [info, false] as const)].map(([info, inSession]) => {
        const service = serviceOf(model, info.name);
        service.info = info;
        service.inSession = inSession;
        service.debug = inSession && event.debug && info.debug !== undefined;
        if (!inSession) service.sync = 'not in this session';
        return [info.name, service];
      }));
      return;
    case 'plan':
      model.plan = { app: event.app, services: event.services };
      return;
    case 'app':
      model.install = { app: event.app, status: event.status, message: event.message };
      return;
    case 'service': {
      const service = serviceOf(model, event.service);
      service.info = event.info;
      service.inSession = event.change === 'joined';
      service.debug = event.debug;
      // What it did before it left, or before it ran again under the debugger, is no longer its state.
      service.debugger = undefined;
      service.lastError = undefined;
      if (event.change === 'left') {
        service.process = undefined;
        service.forwards = new Map();
        service.sync = 'not in this session';
      }
      return;
    }
    case 'dev-mode':
      serviceOf(model, event.service).devMode = { status: event.status, message: event.message, pod: event.pod };
      return;
    case 'status':
      model.waitingFor = event.waitingFor;
      for (const view of event.services) {
        const service = serviceOf(model, view.name);
        service.sync = view.sync;
        setProcess(service, view.process, event.time);
        service.forwards = new Map(view.forwards.map((f) => [f.local, f.state]));
      }
      return;
    case 'process':
      setProcess(serviceOf(model, event.service), event.process, event.time);
      return;
    case 'sync':
      serviceOf(model, event.service).lastSync = { files: event.files, bytes: event.bytes, latencyMs: event.latencyMs, initial: event.initial, time: event.time };
      return;
    case 'reload':
      serviceOf(model, event.service).lastReload = { files: event.files, saveToSyncedMs: event.saveToSyncedMs, syncedToRestartedMs: event.syncedToRestartedMs, time: event.time };
      return;
    case 'forward':
      serviceOf(model, event.service).forwards.set(event.local, event.state);
      return;
    case 'debugger':
      serviceOf(model, event.service).debugger = { port: event.port, attach: event.attach };
      return;
    case 'log':
      model.logs.append(event.service, event.stream, event.line);
      return;
    case 'notice':
      model.notices.push({ level: event.level, message: event.message, service: event.service, time: event.time });
      if (model.notices.length > MAX_NOTICES) model.notices.splice(0, model.notices.length - MAX_NOTICES);
      return;
    case 'error':
      if (event.service) serviceOf(model, event.service).lastError = { code: event.code, message: event.message, hint: event.hint, time: event.time };
      else model.notices.push({ level: 'error', message: event.hint ? `${event.message} — ${event.hint}` : event.message, time: event.time });
      return;
    case 'session-end':
      model.ended = { reason: event.reason, message: event.message, time: event.time };
      return;
  }
}

function setProcess(service: ServiceModel, process: ProcessView, time: string): void {
  if (process.kind === 'running' && service.process?.kind !== 'running') service.runningSince = time;
  service.process = process;
}
