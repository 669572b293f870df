/** `nh validate`: checks config files without a cluster. Exit 0 valid, 1 invalid. */
import { resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { flag, listOption, stringOption, type ParsedCommandLine } from '../args.js';
import type { CliContext } from '../context.js';
import { ConfigSchema } from '../../config/schema.js';
import { loadConfig, type LoadResult } from '../../config/load.js';
import { resolveConfigPaths } from '../config-paths.js';
import { renderProblems, summarize } from '../render/problems.js';

export async function runValidate(ctx: CliContext, args: ParsedCommandLine): Promise<number> {
  const format = stringOption(args.options, 'format') ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, not \`${format}\``);
  // Each positional file is an app of its own (pre-commit passes many); -f files form one app together.
  const apps: string[][] = args.positionals.map((p) => [resolve(ctx.cwd, p)]);
  if (listOption(args.options, 'file').length > 0 || apps.length === 0) {
    apps.push(resolveConfigPaths(ctx, args.options));
  }
  const schema = ConfigSchema.load();
  const results = apps.map((paths) => ({ paths, result: loadConfig({ paths, env: ctx.env, files: ctx.files, schema }) }));
  const valid = results.every((r) => r.result.ok);
  if (format === 'json') {
    ctx.terminal.out(JSON.stringify({ valid, apps: results.map(({ paths, result }) => toJson(ctx, paths, result)) }, null, 2) + '\n');
    return valid ? 0 : 1;
  }
  for (const { paths, result } of results) {
    const text = renderProblems(result.problems, ctx.style, { verbose: flag(args.options, 'verbose') });
    if (text) ctx.terminal.out(text);
    ctx.terminal.out(summarize(paths.map((p) => ctx.files.display(p)), result, ctx.style) + '\n');
  }
  return valid ? 0 : 1;
}

function toJson(ctx: CliContext, paths: readonly string[], result: LoadResult) {
  return {
    files: paths.map((p) => ctx.files.display(p)),
    valid: result.ok,
    services: result.ok ? result.config.services.map((s) => s.name) : [],
    problems: result.problems,
  };
}
