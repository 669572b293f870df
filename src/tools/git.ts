/**
 * The `*Git` sources: a repository fetched at one ref (branch, tag or commit) into a cache outside the
 * user's repo, one directory per URL, reused and updated by later runs. The user's own git does the work, so
 * their credentials and SSH host-key checks apply unchanged.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from './run-tool.js';

export interface GitCheckout {
  readonly dir: string;
  readonly commit: string;
}

const GIT_HINT = 'install git (`apt-get install git`, `brew install git`) and make sure it is on PATH';

export async function checkoutGit(url: string, ref: string | undefined, cacheRoot: string, env: Readonly<Record<string, string | undefined>>): Promise<GitCheckout> {
  const dir = join(cacheRoot, 'git', createHash('sha256').update(url).digest('hex').slice(0, 16));
  await mkdir(dir, { recursive: true });
  const git = (...args: string[]) => runTool({ tool: 'git', args: ['-C', dir, ...args], env, installHint: GIT_HINT });
  await git('init', '-q');
  await git('fetch', '-q', '--depth', '1', url, ref ?? 'HEAD');
  await git('-c', 'advice.detachedHead=false', 'checkout', '-q', '--force', '--detach', 'FETCH_HEAD');
  await git('clean', '-q', '-f', '-d', '-x');
  const commit = (await git('rev-parse', 'HEAD')).stdout.trim();
  return { dir, commit };
}
