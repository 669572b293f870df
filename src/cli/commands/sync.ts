/**
 * `nh sync [SERVICE…]`: an initial delta into each dev container, then (`--watch`) live sync until Ctrl-C;
 * `--check` compares both trees by hash and lists the differences (exit 1 when there are any).
 */
import { buildDesiredState } from '../../desired/build.js';
import { NhError, UsageError } from '../../errors.js';
import type { Difference, DifferenceReason } from '../../sync/plan.js';
import type { SyncEvent } from '../../sync/session.js';
import { flag, stringOption, type ParsedCommandLine } from '../args.js';
import { loadAppConfig } from '../app-config.js';
import type { CliContext } from '../context.js';
import type { Style } from '../terminal.js';

const REASONS: Record<DifferenceReason, string> = {
  missing: 'missing in container',
  extra: 'only in container',
  content: 'content differs',
  mode: 'mode differs',
  kind: 'kind differs',
  target: 'link target differs',
};

export async function runSync(ctx: CliContext, args: ParsedCommandLine): Promise<number> {
  const watch = flag(args.options, 'watch');
  const check = flag(args.options, 'check');
  if (watch && check) throw new UsageError('--watch and --check do not go together', 'run `nh sync --check` on its own');
  const verbose = flag(args.options, 'verbose');
  const maxFileBytes = sizeOption(stringOption(args.options, 'max-file-size'));
  const config = loadAppConfig(ctx, args.options);
  const selected = new Set(buildDesiredState(config, args.positionals).services.map((s) => s.name));
  const clusterOptions = {
    kubeconfig: stringOption(args.options, 'kubeconfig'),
    context: stringOption(args.options, 'context'),
    namespace: stringOption(args.options, 'namespace'),
  };
  const [kube, endpoint] = await Promise.all([ctx.kube(clusterOptions), ctx.execEndpoint(clusterOptions)]);
  const { createServiceSyncSessions } = await import('../../sync/services.js');
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const sessions = createServiceSyncSessions(
      config.services.filter((s) => selected.has(s.name)),
      { kube, namespace: kube.namespace, endpoint, maxFileBytes, duplicateFor: flag(args.options, 'duplicate') ? ctx.identity : undefined, onEvent: (event) => report(ctx, event, { verbose, watch }) },
    );
    if (check) {
      const results = await Promise.all(sessions.map(async (s) => ({ service: s.service, result: await s.check(abort.signal) })));
      for (const { service, result } of results) ctx.terminal.out(renderCheck(service, result.differences, result.tooLarge.map((e) => e.path), ctx.style));
      return results.every((r) => r.result.differences.length === 0) ? 0 : 1;
    }
    if (!watch) {
      await Promise.all(sessions.map((s) => s.syncOnce(abort.signal)));
      return 0;
    }
    ctx.terminal.err(ctx.style.dim(`watching ${sessions.length} container${sessions.length === 1 ? '' : 's'}; Ctrl-C to stop\n`));
    await Promise.all(sessions.map((s) => s.run(abort.signal)));
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    abort.abort();
    kube.close();
  }
}

function report(ctx: CliContext, event: SyncEvent, mode: { verbose: boolean; watch: boolean }): void {
  const { style } = ctx;
  const name = style.bold(event.service);
  switch (event.type) {
    case 'ready':
      if (mode.verbose) ctx.terminal.err(`${name} watcher ready in ${event.watcherReadyMs} ms\n`);
      return;
    case 'batch':
      if (event.initial || mode.verbose) {
        const what = event.written + event.deleted === 0 ? 'up to date' : `${event.written} written, ${event.deleted} deleted, ${formatBytes(event.bytes)}`;
        const label = event.initial ? 'initial sync' : 'synced';
        ctx.terminal.err(`${style.green('✔')} ${name} ${label}: ${what} in ${event.writtenAt - event.savedAt} ms\n`);
      }
      return;
    case 'skipped':
      ctx.terminal.err(`${style.yellow('!')} ${name} not synced: ${event.path}: ${event.reason}\n`);
      return;
    case 'unreadable':
      ctx.terminal.err(`${style.yellow('!')} ${name} ${event.error.message}${style.dim(` (${event.error.hint})`)}\n`);
      return;
    case 'error':
      ctx.terminal.err(`${style.red('✖')} ${name} ${event.error.message}${event.retryInMs ? style.dim(` (retrying in ${event.retryInMs} ms)`) : ''}\n`);
      return;
    case 'pod-lost':
      if (event.error instanceof NhError && event.error.code === 'NH_SYNC_NO_POD') {
        ctx.terminal.err(`${style.yellow('!')} ${name} is waiting for its dev pod: ${event.error.message}${event.error.hint ? style.dim(` (${event.error.hint})`) : ''}\n`);
      } else {
        ctx.terminal.err(`${style.yellow('!')} ${name} lost its dev container (${event.error.message}); edits are kept and sent when it is back\n`);
      }
      return;
    case 'reconnect-failed':
      return; // pod-lost said it once
    case 'pod-back':
      ctx.terminal.err(`${style.green('✔')} ${name} dev container is back; catching up\n`);
      return;
  }
}

export function renderCheck(service: string, differences: readonly Difference[], tooLarge: readonly string[], style: Style): string {
  const lines = [`${style.bold(service)}: ${differences.length === 0 ? style.green('in sync') : style.yellow(`${differences.length} difference${differences.length === 1 ? '' : 's'}`)}`];
  const width = Math.max(0, ...differences.map((d) => REASONS[d.reason].length));
  for (const d of differences) lines.push(`  ${REASONS[d.reason].padEnd(width)}  ${d.path}`);
  for (const path of tooLarge) lines.push(`  ${style.dim(`not compared (over the size limit)  ${path}`)}`);
  return lines.join('\n') + '\n';
}

/** `--max-file-size 200M` → bytes; undefined keeps the session's default. */
export function sizeOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?$/i.exec(text.trim());
  if (!match) throw new UsageError(`--max-file-size \`${text}\` is not a size`, 'write a size such as 200M or 1G');
  const unit = (match[2] ?? 'b').toLowerCase()[0]!;
  const factor = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Math.round(Number(match[1]) * factor);
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
