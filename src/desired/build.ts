/**
 * Config → desired dev state, pure: for each selected service, the dev settings of its target containers
 * and a hash of them, stored on the workload so a later run can tell that the config changed.
 */
import { createHash } from 'node:crypto';
import type { AppConfig, DevPatch, EnvVar, PersistentVolumeDir, Resources, WorkloadRef } from '../config/model.js';
import { closest } from '../config/suggest.js';
import { NhError } from '../errors.js';

export interface DesiredContainer {
  /** undefined = the pod's first container. */
  readonly name: string | undefined;
  readonly image: string | undefined;
  readonly imagePullPolicy: string | undefined;
  readonly workDir: string;
  readonly env: readonly EnvVar[];
  readonly resources: Resources | undefined;
  readonly persistentVolumeDirs: readonly PersistentVolumeDir[];
  readonly storageClass: string | undefined;
}

export interface DesiredService {
  readonly name: string;
  readonly workload: WorkloadRef;
  readonly containers: readonly DesiredContainer[];
  /** The config's own patches of the dev workload, every container's in config order. */
  readonly patches: readonly DevPatch[];
  /** Changes whenever anything above changes; compared with the hash saved on the workload. */
  readonly configHash: string;
}

export interface DesiredState {
  /** The app's name, saved with each dev workload: a whole-app run only removes its own app's services. */
  readonly app: string;
  readonly services: readonly DesiredService[];
  /** Every service of the config, selected or not: dev workloads of other names were removed from it. */
  readonly allServiceNames: readonly string[];
  /** True when the command named no services: then services removed from the config leave dev mode too. */
  readonly wholeApp: boolean;
}

/** Throws NH_UNKNOWN_SERVICE for a selected name the config does not define. */
export function buildDesiredState(config: AppConfig, selected: readonly string[]): DesiredState {
  const names = config.services.map((s) => s.name);
  for (const name of selected) {
    if (!names.includes(name)) {
      const guess = closest(name, names);
      throw new NhError('NH_UNKNOWN_SERVICE', `no service \`${name}\` in the config`, {
        hint: guess ? `did you mean \`${guess}\`?` : `services: ${names.join(', ')}`,
      });
    }
  }
  const chosen = selected.length ? config.services.filter((s) => selected.includes(s.name)) : config.services;
  return {
    app: config.name,
    wholeApp: selected.length === 0,
    allServiceNames: names,
    services: chosen.map((service) => {
      const containers = service.containers.map(
        (c): DesiredContainer => ({
          name: c.name,
          image: c.dev.image,
          imagePullPolicy: c.dev.imagePullPolicy,
          workDir: c.dev.workDir,
          env: c.dev.env,
          resources: c.dev.resources,
          persistentVolumeDirs: c.dev.persistentVolumeDirs,
          storageClass: c.dev.storageClass,
        }),
      );
      const patches = service.containers.flatMap((c) => c.dev.patches);
      // Where a patch is written is not part of what it does: moving it in the file changes nothing.
      const hashed = patches.length ? { workload: service.workload, containers, patches: patches.map(({ type, body }) => ({ type, body })) } : { workload: service.workload, containers };
      return { name: service.name, workload: service.workload, containers, patches, configHash: hashOf(hashed) };
    }),
  };
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}
