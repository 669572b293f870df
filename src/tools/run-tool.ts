/**
 * Runs a tool the user already has (git, helm, kustomize, kubectl) and gives back its output; the one place
 * nh starts local processes. Plain child_process: nh needs no shell, no PATH tricks and no streaming here, so
 * execa would add nothing. Failures become NhErrors that name the tool, the exit code and its own words.
 */
import { spawn } from 'node:child_process';
import { NhError } from '../errors.js';

export interface ToolRun {
  readonly tool: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly input?: string;
  readonly signal?: AbortSignal;
  /** What to tell a user who does not have the tool. */
  readonly installHint: string;
}

export interface ToolResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Tool output is small (rendered manifests); more than this is a runaway process. */
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

export function runTool(run: ToolRun): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(run.tool, [...run.args], {
      cwd: run.cwd, env: run.env ? { ...run.env } : process.env, stdio: ['pipe', 'pipe', 'pipe'], signal: run.signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const take = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT_BYTES) child.kill('SIGKILL');
      else into.push(chunk);
    };
    child.stdout.on('data', take(out));
    child.stderr.on('data', take(err));
    child.stdin.on('error', () => undefined); // a tool that exits without reading its input
    child.stdin.end(run.input ?? '');
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        reject(new NhError('NH_TOOL_MISSING', `\`${run.tool}\` is not installed (not found on PATH)`, { hint: run.installHint, cause: error }));
      } else {
        reject(new NhError('NH_TOOL_FAILED', `\`${run.tool}\` could not run: ${error.message}`, { hint: run.installHint, cause: error }));
      }
    });
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) return resolve({ stdout, stderr });
      const said = lastLines(stderr || stdout, 12);
      reject(new NhError('NH_TOOL_FAILED', `\`${[run.tool, ...run.args.slice(0, 2)].join(' ')}\` failed (${signal ? `killed by ${signal}` : `exit ${code}`})${said ? `:\n${said}` : ''}`, {
        hint: `run \`${[run.tool, ...run.args].join(' ')}\`${run.cwd ? ` in ${run.cwd}` : ''} to see the whole output`,
      }));
    });
  });
}

function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).map((line) => `  ${line}`).join('\n');
}

/** The first of the candidates found on PATH (e.g. `kustomize`, else `kubectl kustomize`). */
export async function firstAvailable<T extends { readonly tool: string }>(candidates: readonly T[], env: Readonly<Record<string, string | undefined>>): Promise<T | undefined> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const dirs = (env['PATH'] ?? '').split(path.delimiter).filter(Boolean);
  for (const candidate of candidates) {
    for (const dir of dirs) {
      try {
        await fs.access(path.join(dir, candidate.tool), fs.constants.X_OK);
        return candidate;
      } catch {
        // not in this directory
      }
    }
  }
  return undefined;
}
