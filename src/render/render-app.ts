/**
 * The app's manifests as objects, from its config: raw files, a kustomization or a Helm chart, from the
 * config root or a git checkout. Reads files and runs the user's tools; never touches the cluster. Every
 * problem (a missing path, a manifest that does not parse, a hook that is not a Job) is collected and
 * reported together, each at its file:line:col.
 */
import { readdir, readFile, stat, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve, sep } from 'node:path';
import type { HookPhase, InstallConfig, Located } from '../config/model.js';
import type { Problem } from '../config/problems.js';
import { NhError } from '../errors.js';
import { checkoutGit } from '../tools/git.js';
import { firstAvailable, runTool } from '../tools/run-tool.js';
import { parseManifests, type RenderedObject } from './manifests.js';

export interface RenderOptions {
  readonly app: string;
  readonly namespace: string;
  /** --git-url / --git-ref / --helm-repo-url / --helm-chart-name, winning over the config. */
  readonly overrides: { readonly gitUrl?: string; readonly gitRef?: string; readonly helmRepoUrl?: string; readonly helmChartName?: string };
  readonly cacheDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Shows paths in problems as the user knows them. */
  readonly display: (path: string) => string;
}

export interface RenderedApp {
  readonly resources: readonly RenderedObject[];
  readonly hooks: Readonly<Record<HookPhase, readonly RenderedObject[]>>;
  /** What was rendered: the git commit, or `local`. */
  readonly source: string;
}

const EMPTY_HOOKS = (): Record<HookPhase, RenderedObject[]> => ({ preInstall: [], postInstall: [], preUpgrade: [], postUpgrade: [], preDelete: [], postDelete: [] });
const HELM_HINT = 'install helm v3 (https://helm.sh/docs/intro/install/) and make sure `helm` is on PATH';
const KUSTOMIZE_HINT = 'install kubectl (it has `kubectl kustomize`) or kustomize, and make sure it is on PATH';

export async function renderApp(install: InstallConfig, options: RenderOptions): Promise<RenderedApp> {
  const { root, source } = await sourceRoot(install, options);
  const problems: Problem[] = [];
  const hooks = EMPTY_HOOKS();
  for (const phase of Object.keys(hooks) as HookPhase[]) {
    for (const hook of install.hooks[phase]) {
      const objects = await readManifestFile(root, hook, problems, options);
      for (const o of objects) {
        if (o.object.kind !== 'Job' || !String(o.object.apiVersion).startsWith('batch/')) {
          problems.push({ ...o.at, severity: 'error', code: 'hook-not-job', message: `a hook must be a Job (batch/v1), not a ${String(o.object.kind)}`,
            hint: 'nh runs each hook as a Job and waits for it to complete; put other objects under resourcePath' });
        } else hooks[phase].push(o);
      }
    }
  }
  let resources: RenderedObject[] = [];
  const type = install.manifestType;
  if (type.startsWith('raw')) {
    const hookFiles = new Set(Object.values(install.hooks).flat().map((h) => resolve(root, h.value)));
    resources = await renderRaw(root, install, hookFiles, problems, options);
  } else if (type.startsWith('kustomize')) {
    resources = parseOutput(`kustomize build ${options.display(chartDir(root, install))}`, await kustomize(chartDir(root, install), options.env), problems);
  } else {
    const rendered = parseOutput(`helm template ${options.app}`, await helmTemplate(root, install, options), problems);
    resources = splitHelmHooks(rendered, hooks);
  }
  if (problems.some((p) => p.severity === 'error')) throw renderError(problems);
  return { resources, hooks, source };
}

async function sourceRoot(install: InstallConfig, options: RenderOptions): Promise<{ root: string; source: string }> {
  const url = options.overrides.gitUrl ?? install.git?.url;
  const wantsGit = install.manifestType.endsWith('Git') || (install.manifestType === 'rawManifest' && url !== undefined);
  if (!wantsGit) return { root: install.root, source: 'local' };
  if (!url) {
    throw new NhError('NH_RENDER_FAILED', `${at(install.at)}: manifestType \`${install.manifestType}\` needs a git repository, and none is given`, {
      hint: 'add `application.gitUrl` to the config or pass --git-url (file:// URLs and local paths work)',
    });
  }
  const checkout = await checkoutGit(url, options.overrides.gitRef ?? install.git?.ref, options.cacheDir, options.env);
  return { root: checkout.dir, source: `${url}@${checkout.commit.slice(0, 12)}` };
}

async function renderRaw(root: string, install: InstallConfig, hookFiles: ReadonlySet<string>, problems: Problem[], options: RenderOptions): Promise<RenderedObject[]> {
  if (install.resourcePaths.length === 0) {
    problems.push({ ...install.at, severity: 'error', code: 'no-resource-path', message: `manifestType \`${install.manifestType}\` needs \`resourcePath\`: nh would install nothing`,
      hint: 'list the manifest files or directories, e.g. `resourcePath: [k8s]`' });
    return [];
  }
  const ignored = install.ignoredPaths.map((p) => resolve(root, p.value));
  const isIgnored = (path: string) => hookFiles.has(path) || ignored.some((i) => path === i || path.startsWith(i + sep));
  const objects: RenderedObject[] = [];
  for (const entry of install.resourcePaths) {
    const path = resolve(root, entry.value);
    const files = await manifestFiles(path);
    if (files === undefined) {
      problems.push({ ...entry.at, severity: 'error', code: 'resource-path-missing', message: `resourcePath \`${entry.value}\` does not exist (looked in ${options.display(path)})`,
        hint: 'paths are relative to the directory holding .nocalhost/ (or the root of gitUrl)' });
      continue;
    }
    for (const file of files.filter((f) => !isIgnored(f))) objects.push(...(await readManifestFile(root, { value: file, at: entry.at }, problems, options)));
  }
  return objects;
}

/** A file as it is, or every *.yaml, *.yml, *.json below a directory in name order; undefined when absent. */
async function manifestFiles(path: string): Promise<string[] | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return undefined;
  if (!info.isDirectory()) return [path];
  const files: string[] = [];
  for (const entry of (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) files.push(...((await manifestFiles(child)) ?? []));
    else if (/\.(ya?ml|json)$/.test(entry.name)) files.push(child);
  }
  return files;
}

async function readManifestFile(root: string, entry: Located<string>, problems: Problem[], options: RenderOptions): Promise<RenderedObject[]> {
  const path = isAbsolute(entry.value) ? entry.value : resolve(root, entry.value);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.push({ ...entry.at, severity: 'error', code: 'manifest-unreadable', message: `cannot read \`${options.display(path)}\`: ${code === 'ENOENT' ? 'no such file' : code ?? String(error)}`,
      hint: 'paths are relative to the directory holding .nocalhost/ (or the root of gitUrl)' });
    return [];
  }
  const parsed = parseManifests(options.display(path), text);
  problems.push(...parsed.problems);
  return parsed.objects;
}

function chartDir(root: string, install: InstallConfig): string {
  const first = install.resourcePaths[0]?.value;
  return first ? resolve(root, first) : root;
}

async function kustomize(dir: string, env: Readonly<Record<string, string | undefined>>): Promise<string> {
  const tool = (await firstAvailable([{ tool: 'kustomize', args: ['build', dir] }, { tool: 'kubectl', args: ['kustomize', dir] }], env)) ?? { tool: 'kustomize', args: ['build', dir] };
  return (await runTool({ ...tool, env, installHint: KUSTOMIZE_HINT })).stdout;
}

async function helmTemplate(root: string, install: InstallConfig, options: RenderOptions): Promise<string> {
  const helm = install.helm;
  const repoUrl = options.overrides.helmRepoUrl ?? helm.repoUrl;
  const chart = install.manifestType === 'helmRepo' ? (options.overrides.helmChartName ?? helm.chartName ?? options.app) : chartDir(root, install);
  if (install.manifestType === 'helmRepo' && !repoUrl) {
    throw new NhError('NH_RENDER_FAILED', `${at(install.at)}: manifestType \`helmRepo\` needs a chart repository, and none is given`, {
      hint: 'add `application.helmRepoUrl` to the config or pass --helm-repo-url',
    });
  }
  const args = ['template', options.app, chart, '--namespace', options.namespace, '--include-crds'];
  if (install.manifestType === 'helmRepo') args.push('--repo', repoUrl!);
  if (helm.version) args.push('--version', helm.version);
  const scratch = await mkdtemp(join(tmpdir(), 'nh-helm-'));
  try {
    if (helm.values) {
      const file = join(scratch, 'helmVals.json');
      await writeFile(file, JSON.stringify(helm.values));
      args.push('--values', file);
    }
    // helmValues win over helmVals (as in nhctl: --set ranks above -f).
    for (const { key, value } of helm.set) args.push('--set', `${key}=${value}`);
    for (const { key, value } of helm.setJson) args.push('--set-json', `${key}=${value}`);
    return (await runTool({ tool: 'helm', args, cwd: root, env: options.env, installHint: HELM_HINT })).stdout;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function parseOutput(name: string, text: string, problems: Problem[]): RenderedObject[] {
  const parsed = parseManifests(name, text);
  problems.push(...parsed.problems);
  return parsed.objects;
}

const HELM_PHASES: Readonly<Record<string, HookPhase>> = {
  'pre-install': 'preInstall', 'post-install': 'postInstall', 'pre-upgrade': 'preUpgrade',
  'post-upgrade': 'postUpgrade', 'pre-delete': 'preDelete', 'post-delete': 'postDelete',
};

/**
 * Helm hook Jobs run as nh's hooks of the same phase, by `helm.sh/hook-weight`; test and rollback hooks are
 * not part of an install. A hook of another kind (a ConfigMap a hook Job reads) is applied with the app.
 */
function splitHelmHooks(objects: readonly RenderedObject[], hooks: Record<HookPhase, RenderedObject[]>): RenderedObject[] {
  const resources: RenderedObject[] = [];
  const weighted: { phase: HookPhase; weight: number; o: RenderedObject }[] = [];
  for (const o of objects) {
    const annotation = o.object.metadata.annotations?.['helm.sh/hook'];
    if (!annotation) {
      resources.push(o);
      continue;
    }
    const phases = annotation.split(',').map((p) => p.trim());
    if (o.object.kind !== 'Job') {
      if (phases.some((p) => HELM_PHASES[p])) resources.push(o);
      continue;
    }
    const weight = Number.parseInt(o.object.metadata.annotations?.['helm.sh/hook-weight'] ?? '0', 10) || 0;
    for (const p of phases) if (HELM_PHASES[p]) weighted.push({ phase: HELM_PHASES[p], weight, o });
  }
  weighted.sort((a, b) => a.weight - b.weight);
  for (const { phase, o } of weighted) hooks[phase].push(o);
  return resources;
}

function at(p: { file: string; line: number; col: number }): string {
  return `${p.file}:${p.line}:${p.col}`;
}

function renderError(problems: readonly Problem[]): NhError {
  const errors = problems.filter((p) => p.severity === 'error');
  const lines = errors.map((p) => `${at(p)}: ${p.message}`);
  return new NhError('NH_RENDER_FAILED', `the app's manifests have ${errors.length} problem${errors.length === 1 ? '' : 's'}; nothing was applied:\n${lines.join('\n')}`, {
    hint: errors[0]?.hint ?? 'fix the manifests and run again',
  });
}

