/**
 * The shapes users commit, told apart and brought to one: a list of v2 services, each with a locator
 * for its problems. Shapes: one service; a list of services; `configProperties` + `application`;
 * Nocalhost's v1 flat service and v1 application (converted here, with a warning on how to migrate).
 */
import type { ServiceConfig as RawService, ServiceConfigV1, ApplicationConfig as RawApplication } from './raw-config.generated.js';
import type { ConfigPath, Locator, PathSegment } from './yaml-document.js';
import { hasErrors, type Problem, type SourcePosition } from './problems.js';
import { findUnusedFields } from './unused-fields.js';
import { withoutEmptyValues } from './empty-values.js';
import { describePath, type ConfigSchema, type FormName } from './schema.js';

export interface LocatedService {
  readonly raw: RawService;
  /** Position of a path inside this service (v2 paths; v1 services map them back to what was written). */
  readonly at: (path: ConfigPath, target?: 'key' | 'value') => SourcePosition;
}

export interface FormsResult {
  readonly services: LocatedService[];
  readonly problems: Problem[];
  /** `application.name` (v1: the top-level `name`), when the file gives one. */
  readonly appName?: string;
  /** The application's own fields (install settings), when the file has an application form. */
  readonly application?: LocatedApplication;
}

export interface LocatedApplication {
  /** Without `services`; invalid values cut out. */
  readonly raw: Omit<RawApplication, 'services'>;
  /** Position of a path inside the application (v2 paths). */
  readonly at: (path: ConfigPath, target?: 'key' | 'value') => SourcePosition;
}

/** Keys only the v1 service form has. */
const V1_SERVICE_KEYS = [
  'devContainerImage', 'syncDirs', 'buildCommand', 'runCommand', 'debugCommand', 'hotReloadRunCommand',
  'hotReloadDebugCommand', 'devContainerShell', 'devContainerResources', 'devPorts', 'dependJobsLabelSelector',
  'dependPodsLabelSelector', 'syncFilePattern', 'ignoreFilePattern', 'workDir', 'gitUrl', 'persistentVolumeDirs',
];

export function readForms(value: unknown, locate: Locator, schema: ConfigSchema): FormsResult {
  const problems: Problem[] = [];
  let application: LocatedApplication | undefined;
  const check = (form: FormName, data: unknown, base: ConfigPath) => {
    const { problems: found, invalidPaths } = schema.check(form, data, base, locate);
    problems.push(...found);
    problems.push(...findUnusedFields(schema, schema.definition(form)!, data, base, locate));
    return { ok: !hasErrors(found), invalidPaths };
  };
  /** Empty values read as unset, each with a note; what is left is what the schema checks. */
  const emptiedAsUnset = (form: FormName, raw: unknown, base: ConfigPath): unknown => {
    const { value, emptied } = withoutEmptyValues(schema, schema.definition(form)!, raw);
    for (const { path, written } of emptied) problems.push(emptyValueNote([...base, ...path], written, locate));
    return value;
  };
  const services: LocatedService[] = [];
  // A service with structural problems still gets the semantic checks, on what is left once the invalid
  // values are cut out, so the user sees every problem in one run.
  const addService = (raw: unknown, base: ConfigPath) => {
    const form = isObject(raw) && !('containers' in raw) && V1_SERVICE_KEYS.some((k) => k in raw) ? 'serviceV1' : 'service';
    const data = emptiedAsUnset(form, raw, base);
    if (form === 'serviceV1' && isObject(data)) {
      const { ok, invalidPaths } = check('serviceV1', data, base);
      const usable = withoutPaths(data, invalidPaths);
      if (typeof usable['name'] !== 'string') return;
      const converted = convertV1Service(usable as unknown as ServiceConfigV1);
      if (ok) problems.push(migrationWarning(locate(base), usable, converted.keysMoved));
      services.push({ raw: converted.service, at: (path, target) => locate([...base, ...converted.v1Path(path)], target) });
    } else if (isObject(data)) {
      const { invalidPaths } = check('service', data, base);
      const usable = withoutPaths(data, invalidPaths);
      if (typeof usable['name'] === 'string') services.push({ raw: usable as unknown as RawService, at: (path, target) => locate([...base, ...path], target) });
    } else {
      check('service', data, base);
    }
  };

  if (value === null || value === undefined || (typeof value === 'string' && value.trim() === '')) {
    problems.push({ ...locate([]), severity: 'error', code: 'empty', message: 'the config is empty',
      hint: 'describe at least one service: `name: <workload>` and `containers: [{dev: {image: …}}]` (see the README)' });
    return { services, problems };
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => addService(item, [i]));
    return { services, problems };
  }
  if (!isObject(value)) {
    problems.push({ ...locate([]), severity: 'error', code: 'wrong-type', message: `the config must be a mapping or a list of services, not ${typeof value}`,
      hint: 'start with `name: <workload>`, a list `- name: …`, or `application:`' });
    return { services, problems };
  }
  if ('application' in value || 'configProperties' in value) {
    // Emptied for the whole file, services included; the application is checked without its services, which are
    // checked one by one below, so their problems are not reported twice.
    const whole = emptiedAsUnset('appConfig', value, []) as Record<string, unknown>;
    const app = isObject(whole['application']) ? whole['application'] : undefined;
    const list = app?.['services'];
    const { services: _listed, ...appFields } = app ?? {};
    const shallow = { ...whole, ...(app ? { application: appFields } : {}) };
    const { invalidPaths } = check('appConfig', shallow, []);
    if (app) {
      const usable = withoutPaths(shallow, invalidPaths)['application'];
      application = { raw: isObject(usable) ? usable : {}, at: (path, target) => locate(['application', ...path], target) };
    }
    if (Array.isArray(list)) list.forEach((item, i) => addService(item, ['application', 'services', i]));
    else if (list !== undefined) check('appConfig', whole, []);
    if (!isObject(whole['configProperties']) || whole['configProperties']['version'] === undefined) {
      problems.push({ ...locate([]), severity: 'warning', code: 'no-version', message: 'no `configProperties.version`: Nocalhost reads this file as v1',
        hint: 'add `configProperties: {version: v2}` so Nocalhost and nh read it the same way' });
    }
    return { services, problems, ...nameOf(app), ...(application ? { application } : {}) };
  }
  if ('services' in value && !('containers' in value)) {
    const whole = emptiedAsUnset('appConfigV1', value, []) as Record<string, unknown>;
    const { services: list, ...appFields } = whole;
    const v1App = check('appConfigV1', appFields, []);
    const { name: _name, ...fields } = withoutPaths(appFields, v1App.invalidPaths);
    // v1 kept the application's fields at the top level, under the same names as v2's `application`.
    application = { raw: fields, at: (path, target) => locate(path, target) };
    if (v1App.ok) {
      problems.push({ ...locate([]), severity: 'warning', code: 'v1-config', message: 'this is a v1 application config; nh converted it to v2',
        hint: 'move its keys under `application:` and add `configProperties: {version: v2}`' });
    }
    if (Array.isArray(list)) list.forEach((item, i) => addService(item, ['services', i]));
    else if (list !== undefined) check('appConfigV1', whole, []);
    return { services, problems, ...nameOf(whole), application };
  }
  addService(value, []);
  return { services, problems };
}

function nameOf(app: Record<string, unknown> | undefined): { appName?: string } {
  const name = app?.['name'];
  return typeof name === 'string' && name.trim() ? { appName: name.trim() } : {};
}

/** A deep copy of `data` without the values at `paths` (an invalid list item is dropped from its list). */
function withoutPaths(data: Record<string, unknown>, paths: readonly ConfigPath[]): Record<string, unknown> {
  const copy = structuredClone(data);
  const deepestFirst = [...paths].sort((a, b) => b.length - a.length || String(b[b.length - 1]).localeCompare(String(a[a.length - 1]), undefined, { numeric: true }));
  for (const path of deepestFirst) {
    if (path.length === 0) return {};
    let node: unknown = copy;
    for (const seg of path.slice(0, -1)) node = (node as Record<string | number, unknown> | undefined)?.[seg];
    const last = path[path.length - 1]!;
    if (Array.isArray(node) && typeof last === 'number') node.splice(last, 1);
    else if (node && typeof node === 'object') delete (node as Record<string, unknown>)[last];
  }
  return copy;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** v2 path prefix → the v1 key it came from. */
const V1_MOVES: ReadonlyArray<readonly [v1: string, v2: ConfigPath]> = [
  ['devContainerImage', ['containers', 0, 'dev', 'image']],
  ['gitUrl', ['containers', 0, 'dev', 'gitUrl']],
  ['workDir', ['containers', 0, 'dev', 'workDir']],
  ['devContainerShell', ['containers', 0, 'dev', 'shell']],
  ['devContainerResources', ['containers', 0, 'dev', 'resources']],
  ['persistentVolumeDirs', ['containers', 0, 'dev', 'persistentVolumeDirs']],
  ['buildCommand', ['containers', 0, 'dev', 'command', 'build']],
  ['runCommand', ['containers', 0, 'dev', 'command', 'run']],
  ['debugCommand', ['containers', 0, 'dev', 'command', 'debug']],
  ['hotReloadRunCommand', ['containers', 0, 'dev', 'command', 'hotReloadRun']],
  ['hotReloadDebugCommand', ['containers', 0, 'dev', 'command', 'hotReloadDebug']],
  ['devPorts', ['containers', 0, 'dev', 'portForward']],
  ['syncFilePattern', ['containers', 0, 'dev', 'sync', 'filePattern']],
  ['ignoreFilePattern', ['containers', 0, 'dev', 'sync', 'ignoreFilePattern']],
  ['syncDirs', ['containers', 0, 'dev', 'sync', 'localPath']],
  ['dependPodsLabelSelector', ['dependLabelSelector', 'pods']],
  ['dependJobsLabelSelector', ['dependLabelSelector', 'jobs']],
];

interface Converted {
  readonly service: RawService;
  readonly keysMoved: readonly string[];
  readonly v1Path: (v2: ConfigPath) => PathSegment[];
}

export function convertV1Service(v1: ServiceConfigV1): Converted {
  const service: Record<string, unknown> = { name: v1.name };
  if (v1.serviceType !== undefined) service['serviceType'] = v1.serviceType;
  if (v1.priorityClass !== undefined) service['priorityClass'] = v1.priorityClass;
  const keysMoved: string[] = [];
  for (const [v1Key, v2Path] of V1_MOVES) {
    let value = (v1 as unknown as Record<string, unknown>)[v1Key];
    if (value === undefined) continue;
    // v1's syncDirs listed local directories; v2 (nh) names one local root.
    if (v1Key === 'syncDirs') value = Array.isArray(value) ? value[0] : value;
    setIn(service, v2Path, value);
    keysMoved.push(v1Key);
  }
  const v1Path = (v2: ConfigPath): PathSegment[] => {
    for (const [v1Key, prefix] of V1_MOVES) {
      if (prefix.every((seg, i) => v2[i] === seg)) {
        const rest = v2.slice(prefix.length);
        return v1Key === 'syncDirs' ? [v1Key, 0, ...rest] : [v1Key, ...rest];
      }
    }
    return v2[0] === 'name' || v2[0] === 'serviceType' || v2[0] === 'priorityClass' ? [v2[0]] : [];
  };
  return { service: service as unknown as RawService, keysMoved, v1Path };
}

function setIn(target: Record<string, unknown>, path: ConfigPath, value: unknown): void {
  let node: Record<string | number, unknown> = target;
  path.forEach((seg, i) => {
    if (i === path.length - 1) {
      node[seg] = value;
      return;
    }
    node[seg] ??= typeof path[i + 1] === 'number' ? [] : {};
    node = node[seg] as Record<string | number, unknown>;
  });
}

function migrationWarning(at: SourcePosition, v1: Record<string, unknown>, moved: readonly string[]): Problem {
  const moves = moved
    .map((k) => `${k} → ${describeV2(V1_MOVES.find(([key]) => key === k)![1])}`)
    .join(', ');
  return {
    ...at,
    severity: 'warning',
    code: 'v1-service',
    message: `service \`${String(v1['name'])}\` uses Nocalhost's v1 fields; nh converted them to v2`,
    hint: `to migrate, move ${moves || 'its fields'} and add \`configProperties: {version: v2}\``,
  };
}

function describeV2(path: ConfigPath): string {
  return path.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('').replace(/^\./, '');
}

function emptyValueNote(path: ConfigPath, written: string, locate: Locator): Problem {
  const last = path[path.length - 1];
  const listItem = typeof last === 'number';
  return {
    ...locate(path, listItem ? 'value' : 'key'),
    severity: 'info',
    code: 'empty-value',
    message: listItem
      ? `\`${describePath(path)}\` is empty (null): read as an item with nothing set, as Nocalhost did`
      : `\`${describePath(path)}\` is empty (${written}): read as not set, as Nocalhost did`,
  };
}
