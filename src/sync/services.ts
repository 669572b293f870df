/**
 * Sync sessions for services of the app: one per dev container, each connecting to the service's current
 * dev pod (findDevPod) whenever it (re)connects. `nh sync` and the dev loop both start them here.
 */
import type { ServiceConfig } from '../config/model.js';
import { NhError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import type { ExecEndpoint } from '../kube/exec.js';
import { findDevPod } from '../kube/pods.js';
import { ContainerAgent } from './agent.js';
import { SyncSession, type SyncEvent } from './session.js';

export interface ServiceSyncDeps {
  readonly kube: KubeClient;
  readonly namespace: string;
  readonly endpoint: ExecEndpoint;
  readonly onEvent?: (event: SyncEvent) => void;
  readonly maxFileBytes?: number;
  /** Duplicate mode: sync into this identity's dev copies. */
  readonly duplicateFor?: string | undefined;
}

export function createServiceSyncSessions(services: readonly ServiceConfig[], deps: ServiceSyncDeps): SyncSession[] {
  return services.flatMap((service) =>
    service.containers.map((container, index) => {
      const label = service.containers.length > 1 ? `${service.name}/${container.name ?? index}` : service.name;
      return new SyncSession({
        service: label,
        localRoot: container.dev.sync.localRoot,
        settings: container.dev.sync,
        onEvent: deps.onEvent,
        maxFileBytes: deps.maxFileBytes,
        connect: async (signal) => {
          const pod = await findDevPod(deps.kube, deps.namespace, service, deps.duplicateFor);
          if (!pod) {
            throw new NhError('NH_SYNC_NO_POD', `${service.name} has no ready dev pod in ${deps.namespace}`, {
              hint: `put it in dev mode first: \`nh up --detach ${service.name}\``,
            });
          }
          const target = { namespace: deps.namespace, pod: pod.name, container: pod.containers[index] };
          return ContainerAgent.start(deps.endpoint, target, container.dev.workDir, signal);
        },
      });
    }),
  );
}
