/** Loading the app's config for commands that act on it: problems are printed, then the command stops. */
import { NhError } from '../errors.js';
import type { AppConfig } from '../config/model.js';
import { loadConfig } from '../config/load.js';
import { ConfigSchema } from '../config/schema.js';
import type { OptionValues } from './args.js';
import { resolveConfigPaths } from './config-paths.js';
import type { CliContext } from './context.js';
import { renderProblems } from './render/problems.js';

export function loadAppConfig(ctx: CliContext, options: OptionValues): AppConfig {
  const paths = resolveConfigPaths(ctx, options);
  const result = loadConfig({ paths, env: ctx.env, files: ctx.files, schema: ConfigSchema.load() });
  if (!result.ok) {
    ctx.terminal.err(renderProblems(result.problems, ctx.style));
    throw new NhError('NH_CONFIG_INVALID', `${paths.map((p) => ctx.files.display(p)).join(', ')}: the config is not valid`, {
      hint: 'fix the problems above (`nh validate` checks the config without a cluster)',
    });
  }
  return result.config;
}
