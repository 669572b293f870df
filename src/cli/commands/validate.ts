/** `nh validate`: checks config files without a cluster. Exit 0 valid, 1 invalid (`--strict`: warnings too). */
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
  // --strict (pre-commit): a warning, such as an unknown key nhctl would have ignored, fails the file too.
  const strict = flag(args.options, 'strict');
  const results = apps.map((paths) => {
    const result = loadConfig({ paths, env: ctx.env, files: ctx.files, schema });
    return { paths, result, passed: result.ok && !(strict && result.problems.some((p) => p.severity === 'warning')) };
  });
  const valid = results.every((r) => r.passed);
  if (format === 'json') {
    ctx.terminal.out(JSON.stringify({ valid, strict, apps: results.map((r) => toJson(ctx, r)) }, null, 2) + '\n');
    return valid ? 0 : 1;
  }
  for (const { paths, result } of results) {
    const text = renderProblems(result.problems, ctx.style, { verbose: flag(args.options, 'verbose') });
    if (text) ctx.terminal.out(text);
    ctx.terminal.out(summarize(paths.map((p) => ctx.files.display(p)), result, ctx.style, strict) + '\n');
  }
  return valid ? 0 : 1;
}

function toJson(ctx: CliContext, { paths, result, passed }: { paths: readonly string[]; result: LoadResult; passed: boolean }) {
  return {
    files: paths.map((p) => ctx.files.display(p)),
    valid: passed,
    services: result.ok ? result.config.services.map((s) => s.name) : [],
    problems: result.problems,
  };
}
