/**
 * Semantic checks across the whole app, after the structure is known to be right. Each rule adds
 * located problems; all of them run, so the user sees every problem at once.
 */
import micromatch from 'micromatch';
import type { LocatedService } from './forms.js';
import type { ConfigPath } from './yaml-document.js';
import { shown, type Problem, type Severity } from './problems.js';
import { closest } from './suggest.js';
import { parsePortForward } from './ports.js';
import { readPatch } from './patches.js';

export interface RuleContext {
  readonly services: readonly LocatedService[];
  report(service: LocatedService, path: ConfigPath, severity: Severity, code: string, message: string, hint?: string, target?: 'key' | 'value'): void;
}

type Rule = (ctx: RuleContext) => void;

export function checkRules(services: readonly LocatedService[]): Problem[] {
  const problems: Problem[] = [];
  const ctx: RuleContext = {
    services,
    report(service, path, severity, code, message, hint, target) {
      problems.push({ ...service.at(path, target), severity, code, message, ...(hint ? { hint } : {}) });
    },
  };
  for (const rule of RULES) rule(ctx);
  return problems;
}

/** Each container's dev section with its path, for rules that look at all of them. */
function* devSections(services: readonly LocatedService[]) {
  for (const service of services) {
    for (const [i, container] of (service.raw.containers ?? []).entries()) {
      if (container.dev) yield { service, dev: container.dev, path: ['containers', i, 'dev'] as ConfigPath };
    }
  }
}

const uniqueServiceNames: Rule = (ctx) => {
  const first = new Map<string, LocatedService>();
  for (const service of ctx.services) {
    const earlier = first.get(service.raw.name);
    if (earlier) {
      const at = earlier.at(['name']);
      ctx.report(service, ['name'], 'error', 'duplicate-service', `service \`${service.raw.name}\` is defined twice (first at ${at.file}:${at.line}:${at.col})`,
        'each service names one workload; merge the two or rename one');
    } else {
      first.set(service.raw.name, service);
    }
  }
};

/** Kubernetes object names: a workload's is a DNS-1123 subdomain, a container's (and nh's app label) a DNS-1123 label. */
const NAME_RULES = {
  subdomain: { pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, max: 253, what: 'lower-case letters, digits, `-` and `.`' },
  label: { pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, max: 63, what: 'lower-case letters, digits and `-`' },
} as const;

/** Why `name` can never name a Kubernetes object, with a name that can; undefined when it is fine. */
export function objectNameProblem(name: string, kind: keyof typeof NAME_RULES): { message: string; hint: string } | undefined {
  const rule = NAME_RULES[kind];
  if (name.length <= rule.max && rule.pattern.test(name)) return undefined;
  const why = name.length > rule.max ? `is longer than ${rule.max} characters` : `is not a valid Kubernetes name (${rule.what}, starting and ending with a letter or digit)`;
  const suggestion = name
    .toLowerCase()
    .replace(kind === 'label' ? /[^a-z0-9]+/g : /[^a-z0-9.]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .slice(0, rule.max)
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return { message: why, hint: suggestion ? `did you mean \`${shown(suggestion)}\`?` : `use ${rule.what} only` };
}

const objectNames: Rule = (ctx) => {
  for (const service of ctx.services) {
    const serviceName = objectNameProblem(service.raw.name, 'subdomain');
    if (serviceName) ctx.report(service, ['name'], 'error', 'bad-name', `service name \`${shown(service.raw.name)}\` ${serviceName.message}`, serviceName.hint);
    (service.raw.containers ?? []).forEach((c, i) => {
      const containerName = c.name === undefined ? undefined : objectNameProblem(c.name, 'label');
      if (containerName) ctx.report(service, ['containers', i, 'name'], 'error', 'bad-name', `container name \`${shown(c.name!)}\` ${containerName.message}`, containerName.hint);
    });
  }
};

const SUPPORTED_KINDS = new Set(['deployment', 'statefulset', 'daemonset', 'job', 'cronjob', 'pod']);

const supportedKinds: Rule = (ctx) => {
  for (const service of ctx.services) {
    const type = service.raw.serviceType?.toLowerCase() ?? 'deployment';
    if (!SUPPORTED_KINDS.has(type)) {
      ctx.report(service, ['serviceType'], 'warning', 'kind-not-supported', `serviceType \`${service.raw.serviceType}\` is accepted, not yet supported by nh: \`nh up\` will refuse this service`,
        'nh develops Deployments, StatefulSets, DaemonSets, Jobs, CronJobs and Pods; custom resources not yet');
    }
  }
};

const containerNames: Rule = (ctx) => {
  for (const service of ctx.services) {
    const containers = service.raw.containers ?? [];
    const seen = new Set<string>();
    containers.forEach((c, i) => {
      if (c.name === undefined && containers.length > 1) {
        ctx.report(service, ['containers', i], 'error', 'container-unnamed', `container ${i + 1} of \`${service.raw.name}\` has no name`,
          'with several containers, name each (`name:` as in the pod template)');
      }
      if (c.name !== undefined) {
        if (seen.has(c.name)) ctx.report(service, ['containers', i, 'name'], 'error', 'duplicate-container', `container \`${c.name}\` is listed twice in \`${service.raw.name}\``, 'merge the two entries');
        seen.add(c.name);
      }
    });
  }
};

const dependencies: Rule = (ctx) => {
  const names = ctx.services.map((s) => s.raw.name);
  const byName = new Map(ctx.services.map((s) => [s.raw.name, s]));
  for (const service of ctx.services) {
    (service.raw.dependsOn ?? []).forEach((dep, i) => {
      if (dep === service.raw.name) {
        ctx.report(service, ['dependsOn', i], 'error', 'depends-on-self', `\`${service.raw.name}\` depends on itself`, 'remove it from its own dependsOn');
      } else if (!byName.has(dep)) {
        const guess = closest(dep, names);
        ctx.report(service, ['dependsOn', i], 'error', 'unknown-dependency', `\`${service.raw.name}\` depends on \`${dep}\`, which is not a service in this config`,
          guess ? `did you mean \`${guess}\`?` : `services here: ${names.join(', ')}`);
      }
    });
  }
  for (const cycle of findCycles(ctx.services.map((s) => [s.raw.name, (s.raw.dependsOn ?? []).filter((d) => d !== s.raw.name && byName.has(d))]))) {
    const service = byName.get(cycle[0]!)!;
    const index = (service.raw.dependsOn ?? []).indexOf(cycle[1]!);
    ctx.report(service, ['dependsOn', index], 'error', 'dependency-cycle', `dependsOn has a cycle: ${cycle.join(' → ')}`,
      'services in a cycle could never start; remove one of these dependencies');
  }
};

/** Every elementary cycle once, each as a path that ends where it starts. */
export function findCycles(graph: ReadonlyArray<readonly [string, readonly string[]]>): string[][] {
  const edges = new Map(graph);
  const cycles: string[][] = [];
  const seenCycles = new Set<string>();
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'active');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'active') {
        const cycle = stack.slice(stack.indexOf(next));
        const key = [...cycle].sort().join('\0');
        if (!seenCycles.has(key)) {
          seenCycles.add(key);
          cycles.push([...cycle, next]);
        }
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const [node] of graph) if (!state.has(node)) visit(node);
  return cycles;
}

const ports: Rule = (ctx) => {
  const localPorts = new Map<number, string>();
  for (const { service, dev, path } of devSections(ctx.services)) {
    (dev.portForward ?? []).forEach((entry, i) => {
      const parsed = parsePortForward(entry);
      if ('error' in parsed) {
        ctx.report(service, [...path, 'portForward', i], 'error', 'bad-port', `port forward \`${String(entry)}\` ${parsed.error}`,
          'write "local:remote" (e.g. "18080:8080") or one port for both, each from 1 to 65535');
        return;
      }
      const owner = localPorts.get(parsed.local);
      if (owner) {
        ctx.report(service, [...path, 'portForward', i], 'error', 'duplicate-local-port', `local port ${parsed.local} is already forwarded by ${owner}`,
          'each local port can be forwarded once; pick another local port ("local:remote")');
      } else {
        localPorts.set(parsed.local, `\`${service.raw.name}\``);
      }
    });
  }
  // Debug ports are forwarded to the same local port, but only under `nh up --debug`.
  const debugPorts = new Map<number, string>();
  for (const { service, dev, path } of devSections(ctx.services)) {
    const port = dev.debug?.remoteDebugPort;
    if (port === undefined) continue;
    // Nocalhost's configs often forward the debug port too ("2345:2345"); nh then opens that forward once.
    const forwardedAsIs = (dev.portForward ?? []).some((entry) => {
      const parsed = parsePortForward(entry);
      return !('error' in parsed) && parsed.local === port && parsed.remote === port;
    });
    const clash = forwardedAsIs ? debugPorts.get(port) : (localPorts.get(port) ?? debugPorts.get(port));
    if (clash) {
      ctx.report(service, [...path, 'debug', 'remoteDebugPort'], 'warning', 'debug-port-clash', `debug port ${port} is also used by ${clash}`,
        'debugging both at once needs distinct ports; change remoteDebugPort (and the debug command) of one');
    }
    debugPorts.set(port, `\`${service.raw.name}\` (debug)`);
    if (!dev.command?.debug) {
      ctx.report(service, [...path, 'debug'], 'warning', 'debug-without-command', `\`${service.raw.name}\` has a debug port but no command.debug`, 'add `command.debug`, the command that starts it under the debugger');
    }
  }
};

const paths: Rule = (ctx) => {
  for (const { service, dev, path } of devSections(ctx.services)) {
    if (dev.workDir !== undefined && !dev.workDir.startsWith('/')) {
      ctx.report(service, [...path, 'workDir'], 'error', 'relative-workdir', `workDir \`${dev.workDir}\` must be an absolute path in the container`, `write it from the root, e.g. /${dev.workDir.replace(/^\.?\/*/, '')}`);
    }
    (dev.persistentVolumeDirs ?? []).forEach((pv, i) => {
      // A missing `path` is already a schema error; the rules see the item as it is.
      if (pv.path !== undefined && !pv.path.startsWith('/')) ctx.report(service, [...path, 'persistentVolumeDirs', i, 'path'], 'error', 'relative-path', `persistent volume path \`${pv.path}\` must be absolute`, `write it from the root, e.g. /${pv.path.replace(/^\.?\/*/, '')}`);
    });
    const localPath = dev.sync?.localPath;
    if (localPath !== undefined && localPath.startsWith('/')) {
      ctx.report(service, [...path, 'sync', 'localPath'], 'error', 'absolute-local-path', `sync.localPath \`${localPath}\` must be relative to the directory holding .nocalhost/`, 'a committed config must work on every checkout; use a relative path such as ./api');
    }
  }
};

const globs: Rule = (ctx) => {
  for (const { service, dev, path } of devSections(ctx.services)) {
    for (const field of ['filePattern', 'ignoreFilePattern'] as const) {
      (dev.sync?.[field] ?? []).forEach((glob, i) => {
        const problem = globProblem(glob);
        if (problem) ctx.report(service, [...path, 'sync', field, i], 'error', 'bad-glob', `${field} \`${glob}\` ${problem.message}`, problem.hint);
      });
    }
  }
};

export function globProblem(glob: string): { message: string; hint: string } | undefined {
  if (glob.trim() === '') return { message: 'is empty', hint: 'remove it, or write a pattern such as src/**' };
  if (glob.split('/').includes('..')) return { message: 'leaves the sync root', hint: 'patterns are relative to the sync root and cannot reach outside it' };
  try {
    micromatch.makeRe(glob, { strictBrackets: true });
  } catch (e) {
    return { message: `is not a valid glob (${(e as Error).message.toLowerCase()})`, hint: 'close every [ ] and { }, or escape a literal bracket with \\' };
  }
  return undefined;
}

const QUANTITY = /^[+]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+|E[+-]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

export function isQuantity(value: string | number): boolean {
  return typeof value === 'number' ? value >= 0 : QUANTITY.test(value);
}

const quantities: Rule = (ctx) => {
  for (const { service, dev, path } of devSections(ctx.services)) {
    for (const level of ['limits', 'requests'] as const) {
      for (const resource of ['cpu', 'memory'] as const) {
        const value = dev.resources?.[level]?.[resource];
        if (value !== undefined && !isQuantity(value)) {
          ctx.report(service, [...path, 'resources', level, resource], 'error', 'bad-quantity', `${level}.${resource} \`${value}\` is not a Kubernetes quantity`,
            resource === 'cpu' ? 'write cores or millicores, e.g. 2 or 500m' : 'write bytes with a unit, e.g. 512Mi or 2Gi (Mi, not MB)');
        }
      }
    }
    (dev.persistentVolumeDirs ?? []).forEach((pv, i) => {
      if (pv.capacity !== undefined && !isQuantity(pv.capacity)) {
        ctx.report(service, [...path, 'persistentVolumeDirs', i, 'capacity'], 'error', 'bad-quantity', `capacity \`${pv.capacity}\` is not a Kubernetes quantity`, 'write a size with a unit, e.g. 10Gi');
      }
    });
  }
};

const SYNC_TYPES: Record<string, string> = { send: 'send', sendonly: 'send', sendOnly: 'send', sendReceive: 'sendReceive', sendreceive: 'sendReceive', sendreceived: 'sendReceive' };

const syncSettings: Rule = (ctx) => {
  for (const { service, dev, path } of devSections(ctx.services)) {
    const type = dev.sync?.type;
    if (type !== undefined) {
      const normal = SYNC_TYPES[type];
      if (normal === 'sendReceive') {
        const spelled = type === normal ? `sync.type \`${type}\`` : `sync.type \`${type}\` (read as \`sendReceive\`)`;
        ctx.report(service, [...path, 'sync', 'type'], 'warning', 'sync-one-way', `${spelled} is two-way in Nocalhost; nh syncs one way (local → container), so changes made in the container are not copied back`,
          'use `send` to say what nh does, or copy files back with `nh exec`');
      } else if (normal && normal !== type) {
        ctx.report(service, [...path, 'sync', 'type'], 'warning', 'sync-type-normalized', `sync.type \`${type}\` normalized to \`${normal}\``, `write \`${normal}\``);
      }
    }
    if (dev.sync?.mode === 'gitignore') {
      ctx.report(service, [...path, 'sync', 'mode'], 'warning', 'sync-mode-normalized', 'sync.mode `gitignore` normalized to `gitIgnore`', 'write `gitIgnore`');
    }
  }
};

const commands: Rule = (ctx) => {
  for (const { service, dev, path } of devSections(ctx.services)) {
    if (dev.hotReload && !dev.command?.run) ctx.report(service, [...path, 'hotReload'], 'warning', 'hot-reload-without-run', 'hotReload is on but there is no command.run to restart', 'add `command.run`');
  }
};

/** Each patch's text parses and has the shape its type needs; the API server judges the rest when it applies it. */
const patches: Rule = (ctx) => {
  for (const { service, dev, path } of devSections(ctx.services)) {
    (dev.patches ?? []).forEach((p, i) => {
      if (typeof p.patch !== 'string') return; // a schema error already
      const read = readPatch(p.patch, p.type ?? 'strategic');
      if (!read.ok) ctx.report(service, [...path, 'patches', i, 'patch'], 'error', 'bad-patch', read.message, read.hint);
    });
  }
};

const RULES: readonly Rule[] = [uniqueServiceNames, objectNames, supportedKinds, containerNames, dependencies, ports, paths, globs, quantities, syncSettings, commands, patches];
