/**
 * The session's page: a card per service, the plan, the logs. Events arrive in batches (api.ts) and wait in
 * a queue; each animation frame folds them into the model for a few milliseconds at most, then draws once,
 * so a burst of log lines never holds the page for longer than a frame's slice: input stays responsive and
 * the rest is folded in the next frames. Lines the bounded log would drop anyway are skipped unfolded.
 */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { SessionEvent } from '../../events/session-event.js';
import { MAX_LOG_LINES } from './log-buffer.js';
import { follow, type Connection } from './api.js';
import { LogView } from './log-view.js';
import { PlanView } from './plan-view.js';
import { ServiceCard, clock } from './service-card.js';
import { applyEvent, emptyModel, type SessionModel } from './session-model.js';
import { EventQueue } from './event-queue.js';

/** How long one frame may fold events: the rest of the frame is left for input, layout and paint. */
const FOLD_BUDGET_MS = 5;

function App() {
  const model = useRef<SessionModel>(emptyModel());
  const [version, setVersion] = useState(0);
  const [connection, setConnection] = useState<Connection>('connecting');
  const [tab, setTab] = useState<'logs' | 'plan'>('logs');
  const [logService, setLogService] = useState('');
  useEffect(() => {
    const queue = new EventQueue<SessionEvent>((event) => event.type === 'log', MAX_LOG_LINES);
    let frame = 0;
    const drain = () => {
      frame = 0;
      const until = performance.now() + FOLD_BUDGET_MS;
      // A key or click waiting ends the slice at once: it is drawn in this frame, the events in the next.
      const enough = () => performance.now() >= until || inputPending();
      queue.drain((event) => applyEvent(model.current, event), () => void model.current.eventCount++, enough);
      setVersion((v) => v + 1);
      if (queue.size > 0) schedule();
    };
    const schedule = () => void (frame ||= requestAnimationFrame(drain));
    const stop = follow({
      reset: (events) => {
        // A reconnect: the replay is the whole current state, so what was queued before it is moot.
        queue.clear();
        model.current = emptyModel();
        queue.push(events);
        schedule();
      },
      events: (events) => {
        queue.push(events);
        schedule();
      },
      connection: setConnection,
    });
    return () => {
      stop();
      cancelAnimationFrame(frame);
    };
  }, []);
  const m = model.current;
  const services = [...m.services.values()];
  const state = m.ended ? 'ended' : connection;
  return (
    <div class="page" data-version={version}>
      <header class="top">
        <h1>{m.app || 'nh'}</h1>
        {m.namespace && <span class="muted">namespace {m.namespace}{m.debug ? ' · debug' : ''}</span>}
        <span class={`connection connection-${state}`} data-field="connection">{connectionText(state, m)}</span>
      </header>
      {m.install && m.install.status !== 'unchanged' && (
        <div class={`install install-${m.install.status}`} data-field="install">app {m.install.app}: {m.install.status === 'progress' ? m.install.message : `${m.install.status} — ${m.install.message}`}</div>
      )}
      {m.waitingFor && <div class="banner" role="status">⧗ waiting for {m.waitingFor.what} ({m.waitingFor.cause}) since {clock(m.waitingFor.since)}</div>}
      {(m.ended || connection === 'gone') && (
        <div class="banner ended" role="status" data-field="ended">
          The session behind this page has ended{m.ended ? ` (${m.ended.reason}${m.ended.message ? `: ${m.ended.message}` : ''}, ${clock(m.ended.time)})` : ': nh does not answer any more'}. Run <code>nh up</code> again for a new one.
        </div>
      )}
      <main class="cards">
        {services.map((s) => <ServiceCard key={s.name} service={s} revision={s.revision} ended={state === 'ended' || state === 'gone'} onLogs={(name) => { setLogService(name); setTab('logs'); }} />)}
      </main>
      {m.notices.length > 0 && <ul class="notices">{m.notices.slice(-5).map((n, i) => <li key={i} class={`notice-${n.level}`}>{n.service ? `${n.service}: ` : ''}{n.message}</li>)}</ul>}
      <nav class="tabs">
        <button type="button" aria-pressed={tab === 'logs'} onClick={() => setTab('logs')}>logs</button>
        <button type="button" aria-pressed={tab === 'plan'} onClick={() => setTab('plan')}>plan</button>
      </nav>
      {tab === 'logs'
        ? <LogView logs={m.logs} version={version} services={services.map((s) => s.name)} service={logService} onService={setLogService} />
        : <PlanView plan={m.plan} />}
    </div>
  );
}

/** Chromium's navigator.scheduling.isInputPending; false where the browser lacks it. */
function inputPending(): boolean {
  return (navigator as { scheduling?: { isInputPending?: () => boolean } }).scheduling?.isInputPending?.() ?? false;
}

function connectionText(state: Connection | 'ended', model: SessionModel): string {
  switch (state) {
    case 'connecting': return 'connecting…';
    case 'live': return `live · ${model.eventCount.toLocaleString()} events`;
    case 'reconnecting': return 'connection lost, reconnecting…';
    case 'gone':
    case 'ended': return 'session ended';
  }
}

render(<App />, document.getElementById('app')!);
