/**
 * What install, upgrade, uninstall, plan and up share for the app itself: config → rendered manifests →
 * desired app → observed (with a server-side dry run) → app plan. The source's tools run here, before the
 * cluster is written to.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../../config/model.js';
import { buildDesiredApp } from '../../desired/app.js';
import { NhError } from '../../errors.js';
import type { KubeClient } from '../../kube/client.js';
import { observeApp } from '../../kube/observe-app.js';
import { planApp } from '../../plan/app-planner.js';
import type { AppPlan } from '../../plan/app-types.js';
import { stringOption, type ParsedCommandLine } from '../args.js';
import type { CliContext } from '../context.js';


export interface AppSessionInputs {
  readonly ctx: CliContext;
  readonly args: ParsedCommandLine;
  readonly config: AppConfig;
  readonly kube: KubeClient;
}

/** The app's plan from a fresh read; undefined when the config does not say how to install the app. */
export async function planAppFor({ ctx, args, config, kube }: AppSessionInputs, mode: 'install' | 'uninstall'): Promise<AppPlan | undefined> {
  const options = { mode, identity: ctx.identity, now: ctx.now().toISOString(), nhVersion: ctx.version };
  if (mode === 'uninstall') return planApp(config.name, undefined, await observeApp(kube, kube.namespace, config.name, undefined, { dryRun: false }), options);
  const install = config.install;
  if (!install) return undefined;
  const { renderApp } = await import('../../render/render-app.js');
  const rendered = await renderApp(install, {
    app: config.name,
    namespace: kube.namespace,
    overrides: {
      ...optional('gitUrl', stringOption(args.options, 'git-url')),
      ...optional('gitRef', stringOption(args.options, 'git-ref')),
      ...optional('helmRepoUrl', stringOption(args.options, 'helm-repo-url')),
      ...optional('helmChartName', stringOption(args.options, 'helm-chart-name')),
    },
    cacheDir: cacheDir(ctx.env),
    env: ctx.env,
    display: (path) => ctx.files.display(path),
  });
  const desired = buildDesiredApp(config, rendered);
  return planApp(config.name, desired, await observeApp(kube, kube.namespace, config.name, desired, { dryRun: true }), options);
}

export function requireInstall(config: AppConfig): void {
  if (config.install) return;
  throw new NhError('NH_APP_NOT_INSTALLED', `the config of app \`${config.name}\` does not say how to install it (no application.manifestType)`, {
    hint: 'add `application.manifestType` and `resourcePath` (e.g. rawManifestLocal and [k8s]) to .nocalhost/config.yaml',
  });
}

/** nh's cache (git checkouts): $XDG_CACHE_HOME/nh, else ~/.cache/nh; NH_CACHE_DIR wins. */
function cacheDir(env: Readonly<Record<string, string | undefined>>): string {
  return env['NH_CACHE_DIR'] || join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'nh');
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
