/**
 * One service: dev state, pod, image, sync and last batch, last reload, forwards, debugger, last error, actions.
 * Drawn again only when an event about it arrived (its revision), not on every frame of a log burst.
 */
import { memo } from 'preact/compat';
import { useState } from 'preact/hooks';
import { describeProcess } from '../../devloop/status-line.js';
import type { ForwardState } from '../../forward/port-forward.js';
import { actions, runAction } from './api.js';
import type { ServiceModel } from './session-model.js';

const FORWARD_TEXT: Record<ForwardState['kind'], string> = { ok: 'ok', 'waiting-for-pod': 'no pod', 'app-not-listening': 'app not listening', 'tunnel-down': 'tunnel down' };

interface CardProps {
  readonly service: ServiceModel;
  readonly revision: number;
  readonly ended: boolean;
  readonly onLogs: (service: string) => void;
}

export const ServiceCard = memo(Card, (before, after) => before.revision === after.revision && before.ended === after.ended);

function Card(props: CardProps) {
  const { service } = props;
  const process = service.process
    ? describeProcess(service.process)
    : { mark: 'idle' as const, text: service.inSession ? (service.devMode?.message ?? 'waiting') : 'not in this session' };
  const pod = service.process?.kind === 'running' ? service.process.pod : service.devMode?.pod;
  return (
    <article class={`card mark-${process.mark}${service.inSession ? '' : ' outside'}`} data-service={service.name} data-in-session={String(service.inSession)}>
      <header>
        <span class="dot" aria-hidden="true" />
        <h2>{service.name}</h2>
        {service.debug && <span class="tag" data-field="debug-mode">debug</span>}
        <span class="process" data-field="process">{process.text}</span>
      </header>
      <dl>
        <dt>dev mode</dt>
        <dd data-field="dev-mode">{service.devMode ? `${service.devMode.status}: ${service.devMode.message}` : '—'}</dd>
        <dt>pod</dt>
        <dd data-field="pod">{pod ?? '—'}</dd>
        <dt>image</dt>
        <dd>{service.info?.image ?? '—'}</dd>
        <dt>sync</dt>
        <dd data-field="sync">
          {service.sync}
          {service.lastSync && !service.lastSync.initial && ` · last batch ${service.lastSync.files} file${service.lastSync.files === 1 ? '' : 's'}, ${formatBytes(service.lastSync.bytes)} in ${service.lastSync.latencyMs} ms at ${clock(service.lastSync.time)}`}
          {service.lastSync?.initial && ` · initial sync ${service.lastSync.files} files, ${formatBytes(service.lastSync.bytes)}`}
        </dd>
        <dt>reload</dt>
        <dd data-field="reload">
          {service.lastReload
            ? `${service.lastReload.files} file${service.lastReload.files === 1 ? '' : 's'}: saved→synced ${service.lastReload.saveToSyncedMs} ms, synced→restarted ${service.lastReload.syncedToRestartedMs} ms at ${clock(service.lastReload.time)}`
            : service.info?.hotReload ? 'none yet' : 'hot reload off'}
        </dd>
        <dt>forwards</dt>
        <dd data-field="forwards">
          {[...service.forwards].map(([local, state]) => (
            <span class={`forward forward-${state.kind}`} key={local}>127.0.0.1:{local} {FORWARD_TEXT[state.kind]}</span>
          ))}
          {service.forwards.size === 0 && '—'}
        </dd>
        {service.info?.dependsOn.length ? (<><dt>depends on</dt><dd>{service.info.dependsOn.join(', ')}</dd></>) : null}
        <dt>debug</dt>
        <dd data-field="debug">
          {service.debugger
            ? `ready on 127.0.0.1:${service.debugger.port} — ${service.debugger.attach}`
            : service.info?.debug ? `${service.info.debug.language} on port ${service.info.debug.port}${service.debug ? ': waiting for the debugger…' : ''}` : '—'}
        </dd>
      </dl>
      {service.lastError && (
        <div class="error" role="alert" data-field="error">
          <strong>{service.lastError.message}</strong>
          {service.lastError.hint && <div class="hint">hint: {service.lastError.hint}</div>}
          <div class="when">{service.lastError.code} at {clock(service.lastError.time)}</div>
        </div>
      )}
      <Actions service={service} disabled={props.ended} onLogs={props.onLogs} />
    </article>
  );
}

/** The buttons a service offers in its state: in the session, or a service of the config outside it. */
const BUTTONS: readonly { action: string; label: string; busy: string; shown: (s: ServiceModel) => boolean }[] = [
  { action: 'restart', label: 'restart', busy: 'restarting…', shown: (s) => s.inSession },
  { action: 'resync', label: 're-sync (drift check)', busy: 're-syncing…', shown: (s) => s.inSession },
  { action: 'enter', label: 'enter dev mode', busy: 'entering dev mode…', shown: (s) => !s.inSession },
  { action: 'debug', label: 'debug', busy: 'starting the debugger…', shown: (s) => s.info?.debug !== undefined && !s.debug },
  { action: 'leave', label: 'leave dev mode', busy: 'restoring…', shown: (s) => s.inSession },
];

function Actions(props: { service: ServiceModel; disabled: boolean; onLogs: (service: string) => void }) {
  const [busy, setBusy] = useState('');
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const name = props.service.name;
  const act = async (action: string) => {
    setBusy(action);
    setResult(await runAction(action, name));
    setBusy('');
  };
  return (
    <footer>
      {BUTTONS.filter((b) => actions.has(b.action) && b.shown(props.service)).map((b) => (
        <button type="button" key={b.action} data-action={b.action} disabled={props.disabled || busy !== ''} onClick={() => void act(b.action)}>{busy === b.action ? b.busy : b.label}</button>
      ))}
      <button type="button" class="quiet" onClick={() => props.onLogs(name)}>logs</button>
      {result && <span class={result.ok ? 'result' : 'result failed'} data-field="action-result">{result.text}</span>}
    </footer>
  );
}

export function clock(iso: string): string {
  return new Date(iso).toLocaleTimeString();
}

function formatBytes(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
