/** The dev loop's events as the session's stream carries them (pure): errors become messages, times ISO. */
import type { DevLoopEvent } from '../devloop/dev-loop.js';
import type { ServiceStatus } from '../devloop/status-line.js';
import type { ProcessView, SessionEventBody } from './session-event.js';

export function fromDevLoop(event: DevLoopEvent): SessionEventBody {
  switch (event.type) {
    case 'output':
      return { type: 'log', service: event.service, stream: event.stream, line: event.line };
    case 'status':
      return {
        type: 'status',
        services: event.services.map((s) => ({ ...s, process: processView(s.process) })),
        waitingFor: event.waitingFor && { what: event.waitingFor.what, cause: event.waitingFor.cause, since: new Date(event.waitingFor.since).toISOString() },
      };
    case 'process':
      return { ...event, process: processView(event.process) };
    case 'notice':
      return { type: 'notice', level: event.level, message: event.message, ...(event.service ? { service: event.service } : {}) };
    case 'reload':
    case 'error':
    case 'sync':
    case 'forward':
      return event;
  }
}

function processView(process: ServiceStatus['process']): ProcessView {
  return process.kind === 'reconnecting' ? { kind: 'reconnecting', message: process.error.message } : process;
}
