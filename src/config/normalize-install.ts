/**
 * The application's install settings (raw, validated) → the typed model. Defaults are applied here, in one
 * place: the source is the config root unless a git URL is given, hooks are put in run order.
 */
import { resolve } from 'node:path';
import type { ApplicationConfig as RawApplication, ServiceConfig as RawService } from './raw-config.generated.js';
import type { EnvVar, HookPhase, InstallConfig, Located, ServiceInstall } from './model.js';
import type { ConfigPath } from './yaml-document.js';
import type { SourcePosition } from './problems.js';
import { parsePortForward } from './ports.js';

type EnvFiles = ReadonlyMap<string, ReadonlyMap<string, string>>;
type Locate = (path: ConfigPath) => SourcePosition;

const HOOK_KEYS: Readonly<Record<HookPhase, 'onPreInstall' | 'onPostInstall' | 'onPreUpgrade' | 'onPostUpgrade' | 'onPreDelete' | 'onPostDelete'>> = {
  preInstall: 'onPreInstall',
  postInstall: 'onPostInstall',
  preUpgrade: 'onPreUpgrade',
  postUpgrade: 'onPostUpgrade',
  preDelete: 'onPreDelete',
  postDelete: 'onPostDelete',
};

export function normalizeInstall(app: Omit<RawApplication, 'services'>, root: string, at: Locate, envFiles: EnvFiles): InstallConfig | undefined {
  if (!app.manifestType) return undefined;
  const located = (key: 'resourcePath' | 'ignoredPath', values: readonly string[] | undefined): Located<string>[] =>
    (values ?? []).map((value, i) => ({ value, at: at([key, i]) }));
  const hooks = Object.fromEntries(
    (Object.keys(HOOK_KEYS) as HookPhase[]).map((phase) => {
      const key = HOOK_KEYS[phase];
      const list = app[key] ?? [];
      const ordered = list
        .map((hook, i) => ({ hook, i }))
        .filter(({ hook }) => hook.path)
        // nhctl parsed the weight as an integer, anything else counting as 0; a stable sort keeps declaration order.
        .sort((a, b) => weightOf(a.hook.weight) - weightOf(b.hook.weight) || a.i - b.i)
        .map(({ hook, i }) => ({ value: hook.path!, at: at([key, i, 'path']) }));
      return [phase, ordered];
    }),
  ) as Record<HookPhase, Located<string>[]>;
  return {
    manifestType: app.manifestType,
    at: at(['manifestType']),
    root,
    git: app.gitUrl ? { url: app.gitUrl, ref: app.gitRef } : undefined,
    resourcePaths: located('resourcePath', app.resourcePath),
    ignoredPaths: located('ignoredPath', app.ignoredPath),
    hooks,
    helm: {
      set: (app.helmValues ?? []).flatMap((v) => (v.key && !isStructured(v.value) ? [{ key: v.key, value: v.value === undefined ? '' : String(v.value as string | number | boolean) }] : [])),
      // nhctl's string field dropped a mapping (the key was then set to ""); what was written is what was meant.
      setJson: (app.helmValues ?? []).flatMap((v) => (v.key && isStructured(v.value) ? [{ key: v.key, value: JSON.stringify(v.value) }] : [])),
      values: app.helmVals,
      version: app.helmVersion,
      repoUrl: app.helmRepoUrl,
      chartName: app.helmChartName,
    },
    env: mergeEnvSources(app.envFrom, app.env, root, envFiles),
  };
}

export function normalizeServiceInstall(raw: RawService, root: string, envFiles: EnvFiles): ServiceInstall {
  const deps = raw.dependLabelSelector;
  return {
    containers: (raw.containers ?? [])
      .filter((c) => c.install)
      .map((c) => ({
        name: c.name,
        env: mergeEnvSources(c.install?.envFrom, c.install?.env, root, envFiles),
        portForwards: (c.install?.portForward ?? []).flatMap((entry) => {
          const parsed = parsePortForward(entry);
          return 'error' in parsed ? [] : [parsed];
        }),
      })),
    waitFor: { pods: deps?.pods ?? [], jobs: deps?.jobs ?? [], tcp: deps?.tcp ?? [], http: deps?.http ?? [] },
  };
}

/** envFrom files first, then `env`: later entries win, as in Nocalhost. */
export function mergeEnvSources(
  envFrom: { envFile?: { path: string }[] } | undefined,
  env: { name: string; value?: string | number | boolean }[] | undefined,
  root: string,
  envFiles: EnvFiles,
): EnvVar[] {
  const merged = new Map<string, string>();
  for (const { path } of envFrom?.envFile ?? []) for (const [k, v] of envFiles.get(resolve(root, path)) ?? []) merged.set(k, v);
  for (const { name, value } of env ?? []) merged.set(name, value === undefined ? '' : String(value));
  return [...merged].map(([name, value]) => ({ name, value }));
}

function weightOf(weight: string | number | undefined): number {
  const n = typeof weight === 'number' ? weight : Number.parseInt(weight ?? '', 10);
  return Number.isInteger(n) ? n : 0;
}

function isStructured(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}
