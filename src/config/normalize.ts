/**
 * Raw (validated) services → the normalized model. All defaults are applied here, in one place.
 */
import { isAbsolute, resolve } from 'node:path';
import type { ServiceConfig as RawService, ContainerDevConfig as RawDev } from './raw-config.generated.js';
import type { ContainerConfig, DevConfig, DevPatch, EnvVar, ServiceConfig, WorkloadRef } from './model.js';
import { readPatch } from './patches.js';
import type { SourcePosition } from './problems.js';
import type { ConfigPath } from './yaml-document.js';
import { parsePortForward } from './ports.js';
import { mergeEnvSources, normalizeServiceInstall } from './normalize-install.js';

export const DEFAULTS = {
  serviceType: 'deployment',
  workDir: '/home/nocalhost-dev',
  persistentVolumeCapacity: '10Gi',
  syncMode: 'pattern',
  /** `.` is the whole local root, as in Nocalhost. */
  filePatterns: ['.'],
  ignorePatterns: [] as string[],
  hotReload: false,
} as const;

const KINDS: Record<string, WorkloadRef['kind']> = {
  deployment: 'Deployment',
  statefulset: 'StatefulSet',
  daemonset: 'DaemonSet',
  job: 'Job',
  cronjob: 'CronJob',
  pod: 'Pod',
};

export interface NormalizeInputs {
  readonly file: string;
  /** Directory holding `.nocalhost/`; relative paths of the config start here. */
  readonly root: string;
  /** Variables of each `envFrom.envFile`, by absolute path, already read. */
  readonly envFiles: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Where a path of this service is written (for errors found later, on the cluster). */
  readonly at: (path: ConfigPath) => SourcePosition;
}

export function normalizeService(raw: RawService, inputs: NormalizeInputs): ServiceConfig {
  const type = (raw.serviceType ?? DEFAULTS.serviceType).toLowerCase();
  const kind = KINDS[type] ?? 'CustomResource';
  const containers = raw.containers?.length ? raw.containers : [{}];
  return {
    name: raw.name,
    workload: { kind, name: raw.name, ...(kind === 'CustomResource' ? { resource: type } : {}) },
    dependsOn: raw.dependsOn ?? [],
    containers: containers.map((c, i): ContainerConfig => ({ name: c.name, dev: normalizeDev(c.dev ?? {}, inputs, ['containers', i, 'dev']) })),
    source: { file: inputs.file, root: inputs.root },
    install: normalizeServiceInstall(raw, inputs.root, inputs.envFiles),
  };
}

function normalizeDev(dev: RawDev, inputs: NormalizeInputs, path: ConfigPath): DevConfig {
  const localPath = dev.sync?.localPath;
  return {
    image: dev.image,
    imagePullPolicy: dev.imagePullPolicy,
    shell: dev.shell,
    workDir: dev.workDir ?? DEFAULTS.workDir,
    storageClass: dev.storageClass,
    resources: dev.resources
      ? {
          ...(dev.resources.limits ? { limits: quantities(dev.resources.limits) } : {}),
          ...(dev.resources.requests ? { requests: quantities(dev.resources.requests) } : {}),
        }
      : undefined,
    persistentVolumeDirs: (dev.persistentVolumeDirs ?? []).map((pv) => ({
      path: pv.path,
      capacity: String(pv.capacity ?? DEFAULTS.persistentVolumeCapacity),
    })),
    command: {
      run: dev.command?.run, debug: dev.command?.debug, build: dev.command?.build,
      hotReloadRun: dev.command?.hotReloadRun, hotReloadDebug: dev.command?.hotReloadDebug,
    },
    debug: dev.debug?.remoteDebugPort !== undefined ? { remotePort: dev.debug.remoteDebugPort, language: dev.debug.language } : undefined,
    readinessCommand: dev.readinessCommand,
    hotReload: dev.hotReload ?? DEFAULTS.hotReload,
    sync: {
      type: 'send',
      mode: dev.sync?.mode?.toLowerCase() === 'gitignore' ? 'gitIgnore' : DEFAULTS.syncMode,
      localRoot: localPath === undefined ? inputs.root : isAbsolute(localPath) ? localPath : resolve(inputs.root, localPath),
      filePatterns: dev.sync?.filePattern?.length ? dev.sync.filePattern : DEFAULTS.filePatterns,
      ignorePatterns: dev.sync?.ignoreFilePattern ?? DEFAULTS.ignorePatterns,
    },
    env: mergeEnv(dev, inputs),
    portForwards: (dev.portForward ?? []).flatMap((entry) => {
      const parsed = parsePortForward(entry);
      return 'error' in parsed ? [] : [parsed];
    }),
    patches: (dev.patches ?? []).flatMap((p, i): DevPatch[] => {
      const type = p.type ?? 'strategic';
      const read = readPatch(p.patch, type);
      if (!read.ok) return []; // rules.ts reported it; a config with errors is never normalized
      const at = inputs.at([...path, 'patches', i, 'patch']);
      return [{ type, body: read.body, at: `${at.file}:${at.line}:${at.col}` }];
    }),
  };
}

function quantities(q: { cpu?: string | number; memory?: string | number }) {
  return { ...(q.cpu !== undefined ? { cpu: String(q.cpu) } : {}), ...(q.memory !== undefined ? { memory: String(q.memory) } : {}) };
}

function mergeEnv(dev: RawDev, inputs: NormalizeInputs): EnvVar[] {
  return mergeEnvSources(dev.envFrom, dev.env, inputs.root, inputs.envFiles);
}
