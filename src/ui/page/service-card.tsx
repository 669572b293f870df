/** One service: dev state, pod, image, sync and last batch, last reload, forwards, debugger, last error, actions. */
import { useState } from 'preact/hooks';
import { describeProcess } from '../../devloop/status-line.js';
import type { ForwardState } from '../../forward/port-forward.js';
import { actions, runAction } from './api.js';
import type { ServiceModel } from './session-model.js';

const FORWARD_TEXT: Record<ForwardState['kind'], string> = { ok: 'ok', 'waiting-for-pod': 'no pod', 'app-not-listening': 'app not listening', 'tunnel-down': 'tunnel down' };

export function ServiceCard(props: { service: ServiceModel; ended: boolean; onLogs: (service: string) => void }) {
  const { service } = props;
  const process = service.process ? describeProcess(service.process) : { mark: 'idle' as const, text: service.devMode?.message ?? 'waiting' };
  const pod = service.process?.kind === 'running' ? service.process.pod : service.devMode?.pod;
  return (
    <article class={`card mark-${process.mark}`} data-service={service.name}>
      <header>
        <span class="dot" aria-hidden="true" />
        <h2>{service.name}</h2>
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
          {service.debugger ? `ready on 127.0.0.1:${service.debugger.port} — ${service.debugger.attach}` : service.info?.debug ? `${service.info.debug.language} on port ${service.info.debug.port} (nh up --debug)` : '—'}
        </dd>
      </dl>
      {service.lastError && (
        <div class="error" role="alert" data-field="error">
          <strong>{service.lastError.message}</strong>
          {service.lastError.hint && <div class="hint">hint: {service.lastError.hint}</div>}
          <div class="when">{service.lastError.code} at {clock(service.lastError.time)}</div>
        </div>
      )}
      <Actions service={service.name} disabled={props.ended} onLogs={props.onLogs} />
    </article>
  );
}

function Actions(props: { service: string; disabled: boolean; onLogs: (service: string) => void }) {
  const [busy, setBusy] = useState('');
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const act = async (action: string) => {
    setBusy(action);
    setResult(await runAction(action, props.service));
    setBusy('');
  };
  return (
    <footer>
      {actions.has('restart') && <button type="button" data-action="restart" disabled={props.disabled || busy !== ''} onClick={() => void act('restart')}>{busy === 'restart' ? 'restarting…' : 'restart'}</button>}
      {actions.has('resync') && <button type="button" data-action="resync" disabled={props.disabled || busy !== ''} onClick={() => void act('resync')}>{busy === 'resync' ? 're-syncing…' : 're-sync (drift check)'}</button>}
      <button type="button" class="quiet" onClick={() => props.onLogs(props.service)}>logs</button>
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
