/** Which config files a command reads: `-f` files, or `.nocalhost/config.yaml` found from the cwd upward. */
import { resolve } from 'node:path';
import { NhError } from '../errors.js';
import { findConfig } from '../config/discover.js';
import { listOption, type OptionValues } from './args.js';
import type { CliContext } from './context.js';

export function resolveConfigPaths(ctx: CliContext, options: OptionValues): string[] {
  const given = listOption(options, 'file');
  if (given.length > 0) return given.map((f) => resolve(ctx.cwd, f));
  const found = findConfig(ctx.cwd, ctx.exists);
  if (!found) {
    throw new NhError('NH_CONFIG_NOT_FOUND', `no .nocalhost/config.yaml in ${ctx.cwd} or any directory above it`, {
      hint: 'run nh inside your project, or name the config with -f FILE',
    });
  }
  return [found];
}
