/** What the session's stream says of the config and of the plan (pure). */
import type { ServiceConfig } from '../config/model.js';
import { forwardsOf } from '../devloop/dev-loop.js';
import type { ServicePlan } from '../plan/types.js';
import type { PlannedService, ServiceInfo } from './session-event.js';

export function serviceInfo(service: ServiceConfig, debug: boolean): ServiceInfo {
  const dev = service.containers[0]?.dev;
  return {
    name: service.name,
    workload: { kind: service.workload.kind, name: service.workload.name },
    image: dev?.image,
    workDir: dev?.workDir ?? '',
    hotReload: dev?.hotReload ?? false,
    dependsOn: service.dependsOn,
    forwards: forwardsOf(service, debug),
    debug: dev?.debug && { port: dev.debug.remotePort, language: dev.debug.language ?? 'unknown' },
  };
}

export function plannedService(plan: ServicePlan): PlannedService {
  return { service: plan.service, workload: plan.workload, action: plan.action, reason: plan.problem ? `${plan.reason}: ${plan.problem.message}` : plan.reason, fields: plan.fields, owner: plan.owner };
}
