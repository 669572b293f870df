/**
 * `nh exec SERVICE [-- COMMAND…]`: a shell (or the command) in the service's dev container, in its workDir.
 * On a terminal it is interactive: raw keystrokes, a terminal in the container that follows the window's
 * size. The shell is the config's `shell`, else bash, else sh (whichever the image has). Exits with the
 * command's exit code.
 */
import type { ServiceConfig } from '../../config/model.js';
import { NhError, UsageError } from '../../errors.js';
import { openExec } from '../../kube/exec.js';
import { findDevPod } from '../../kube/pods.js';
import { clusterOptions, flag, type ParsedCommandLine } from '../args.js';
import { loadAppConfig } from '../app-config.js';
import type { CliContext } from '../context.js';

/** `sh -c` that enters workDir and runs the first shell of the list the image has. */
export function shellCommand(workDir: string, preferred: string | undefined): string[] {
  const script = 'cd "$1" 2>/dev/null; shift; for s in "$@"; do command -v "$s" >/dev/null 2>&1 && exec "$s"; done; exec sh';
  return ['sh', '-c', script, 'nh-shell', workDir, ...(preferred ? [preferred] : []), 'bash', 'sh'];
}

/** `sh -c` that enters workDir, then runs the command word for word. */
export function commandInWorkDir(workDir: string, command: readonly string[]): string[] {
  return ['sh', '-c', 'cd "$1" 2>/dev/null; shift; exec "$@"', 'nh-exec', workDir, ...command];
}

export async function runExec(ctx: CliContext, args: ParsedCommandLine): Promise<number> {
  const [name, ...extra] = args.positionals;
  if (!name || extra.length) throw new UsageError('name one service: `nh exec SERVICE [-- COMMAND…]`');
  const config = loadAppConfig(ctx, args.options);
  const service: ServiceConfig | undefined = config.services.find((s) => s.name === name);
  if (!service) throw new NhError('NH_UNKNOWN_SERVICE', `no service \`${name}\` in the config`, { hint: `services: ${config.services.map((s) => s.name).join(', ')}` });
  const cluster = clusterOptions(args.options);
  const [kube, endpoint] = await Promise.all([ctx.kube(cluster), ctx.execEndpoint(cluster)]);
  try {
    const pod = await findDevPod(kube, kube.namespace, service, flag(args.options, 'duplicate') ? ctx.identity : undefined);
    if (!pod) throw new NhError('NH_NO_DEV_POD', `${service.name} has no ready dev pod in namespace \`${kube.namespace}\``, { hint: `put it in dev mode first: \`nh up --detach ${service.name}\`` });
    const dev = service.containers[0]!.dev;
    const command = args.rest.length ? commandInWorkDir(dev.workDir, args.rest) : shellCommand(dev.workDir, dev.shell);
    const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
    const channel = await openExec(endpoint, { namespace: kube.namespace, pod: pod.name, container: pod.containers[0] }, command, {
      stdin: true,
      tty,
      onStdout: (data) => process.stdout.write(data),
      onStderr: (data) => process.stderr.write(data),
    });
    const resize = () => channel.resize(process.stdout.columns, process.stdout.rows);
    const onInput = (data: Buffer) => void channel.write(data).catch(() => undefined);
    const onEnd = () => channel.closeStdin();
    if (tty) {
      process.stdin.setRawMode(true);
      resize();
      process.stdout.on('resize', resize);
    }
    process.stdin.on('data', onInput);
    process.stdin.on('end', onEnd);
    try {
      const result = await channel.done;
      if (result.message) ctx.terminal.err(`${ctx.style.red('✖')} ${result.message}\n`);
      return result.exitCode < 0 ? 1 : result.exitCode;
    } finally {
      process.stdin.off('data', onInput);
      process.stdin.off('end', onEnd);
      process.stdout.off('resize', resize);
      if (tty) process.stdin.setRawMode(false);
      process.stdin.pause();
    }
  } finally {
    kube.close();
  }
}
