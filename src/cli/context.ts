/**
 * The composition root: every side effect the commands use (terminal, file system, environment) is built
 * here and passed in. Commands that need the cluster build their client from it lazily.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { isAbsolute, relative, resolve } from 'node:path';
import type { ConfigFiles } from '../config/load.js';
import type { KubeClient } from '../kube/client.js';
import type { ExecEndpoint } from '../kube/exec.js';
import type { KubeClientOptions } from '../kube/node-client.js';
import { styleFor, type Style, type Terminal } from './terminal.js';

export interface CliContext {
  readonly terminal: Terminal;
  readonly style: Style;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly files: ConfigFiles;
  readonly exists: (path: string) => boolean;
  readonly version: string;
  /** Who owns the dev mode nh enters: NH_IDENTITY, else user@host. */
  readonly identity: string;
  readonly now: () => Date;
  /** The cluster client, built on first use (reading the kubeconfig, and for exec plugins loading client-node). */
  readonly kube: (options: Omit<KubeClientOptions, 'env'>) => Promise<KubeClient>;
  /** Server and credentials for exec channels (sync agents), from the same kubeconfig as `kube`. */
  readonly execEndpoint: (options: Omit<KubeClientOptions, 'env'>) => Promise<ExecEndpoint>;
}

export function createContext(terminal: Terminal, version: string): CliContext {
  const cwd = process.cwd();
  return {
    terminal,
    style: styleFor(terminal.color),
    cwd,
    env: process.env,
    files: nodeConfigFiles(cwd),
    exists: (path) => existsSync(path),
    version,
    identity: process.env['NH_IDENTITY'] || `${userInfo().username}@${hostname()}`,
    now: () => new Date(),
    kube: async (options) => (await import('../kube/node-client.js')).createKubeClient({ ...options, env: process.env }),
    execEndpoint: async (options) => (await import('../kube/node-client.js')).createExecEndpoint({ ...options, env: process.env }),
  };
}

export function nodeConfigFiles(cwd: string): ConfigFiles {
  return {
    read(path) {
      try {
        if (statSync(path).isDirectory()) return { error: 'it is a directory' };
        return readFileSync(path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return { error: code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message };
      }
    },
    display(path) {
      const rel = relative(cwd, path);
      return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : resolve(path);
    },
  };
}
