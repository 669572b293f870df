// Every manifest type nh installs from, local and from git (file:// URLs), plus Helm from a chart
// repository served on loopback; a failing hook; bad input that changes nothing on the cluster.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { clusterToolsPath, kubectl, withNamespace } from '../support/cluster.js';
import { idleDeployment, limitedKubeconfig, runNh } from '../support/nh.js';
import { tempDir } from '../../support/temp-dir.js';

/** Writes files (relative path → text) into a fresh directory. */
function tree(files: Record<string, string>): string {
  const dir = tempDir('nh-app-');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, '-c', 'user.name=e2e', '-c', 'user.email=e2e@test', ...args], { encoding: 'utf8' }).trim();
}

/** A git repository holding the files, committed on `main`. */
function repo(files: Record<string, string>): string {
  const dir = tree(files);
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'manifests');
  return dir;
}

const project = (config: string) => tree({ '.nocalhost/config.yaml': config });
const names = (ns: string, kinds: string) => kubectl(['-n', ns, 'get', kinds, '-l', 'app.kubernetes.io/managed-by=nh,!nh.dev/record', '-o', 'name']).stdout.split('\n').filter(Boolean).sort();
const configMap = (name: string, data: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {value: "${data}"}\n`;
// Each case installs into its own namespace and checks uninstall leaves nothing nh labelled.
async function installThenUninstall(t: TestContext, cwd: string, expected: string[], extra: string[] = []): Promise<string> {
  const ns = await withNamespace(t, t.name.slice(0, 20));
  const r = await runNh(ns, ['install', '--timeout', '2m', ...extra], { cwd });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(names(ns, 'deploy,cm,svc'), expected);
  return ns;
}

async function uninstall(ns: string, cwd: string): Promise<void> {
  const r = await runNh(ns, ['uninstall'], { cwd });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(names(ns, 'all,cm,secret,jobs'), []);
}

test('booking: nh up --detach on an empty namespace installs the app and puts it in dev mode in one run; down keeps it; down --uninstall removes it', async (t) => {
  const ns = await withNamespace(t, 'app-booking');
  const cwd = join(process.cwd(), 'examples/booking');
  const r = await runNh(ns, ['up', '--detach', '--timeout', '3m'], { cwd });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /app: installed \(revision 1\): 6 created/);
  assert.match(r.stdout, /3 services: 3 changed\./);
  assert.equal((await runNh(ns, ['plan', '--detailed-exitcode'], { cwd })).code, 0, 'a second nh up would change nothing');
  const down = await runNh(ns, ['down'], { cwd });
  assert.equal(down.code, 0, down.stdout + down.stderr);
  assert.equal(kubectl(['-n', ns, 'get', 'deploy', 'booking-api', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']).stdout, 'localhost/booking-api:1.0');
  const gone = await runNh(ns, ['down', '--uninstall'], { cwd });
  assert.equal(gone.code, 0, gone.stdout + gone.stderr);
  assert.deepEqual(names(ns, 'all,cm,secret,jobs'), []);
});

test('rawManifestGit from a file:// URL at a ref; a new commit upgrades and prunes', async (t) => {
  const source = repo({ 'deploy/app.yaml': idleDeployment('from-git') + '---\n' + configMap('git-a', 'one'), 'deploy/extra.yml': configMap('git-b', 'two'), 'deploy/skip.yaml': configMap('skipped', 'x') });
  const cwd = project(`application:\n  name: gitapp\n  manifestType: rawManifestGit\n  gitUrl: file://${source}\n  gitRef: main\n  resourcePath: [deploy]\n  ignoredPath: [deploy/skip.yaml]\n  services: []\n`);
  const ns = await installThenUninstall(t, cwd, ['configmap/git-a', 'configmap/git-b', 'deployment.apps/from-git']);
  writeFileSync(join(source, 'deploy/extra.yml'), configMap('git-c', 'three'));
  git(source, 'commit', '-q', '-am', 'rename');
  const r = await runNh(ns, ['upgrade'], { cwd });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /upgraded \(revision 2\): 1 created, 0 updated, 1 pruned/);
  assert.deepEqual(names(ns, 'cm'), ['configmap/git-a', 'configmap/git-c']);
  await uninstall(ns, cwd);
});

test('kustomizeGit, and kustomizeLocal with --git-url given on the command line', async (t) => {
  const source = repo({ 'overlay/kustomization.yaml': 'resources: [base.yaml]\nnamePrefix: k-\n', 'overlay/base.yaml': configMap('cfg', 'kustomized') });
  const cwd = project('application:\n  name: kapp\n  manifestType: kustomizeGit\n  resourcePath: [overlay]\n  services: []\n');
  const ns = await installThenUninstall(t, cwd, ['configmap/k-cfg'], ['--git-url', source]);
  assert.equal(kubectl(['-n', ns, 'get', 'cm', 'k-cfg', '-o', 'jsonpath={.data.value}']).stdout, 'kustomized');
  await uninstall(ns, cwd);
});

const CHART = {
  'chart/Chart.yaml': 'apiVersion: v2\nname: hello\nversion: 0.1.0\n',
  'chart/values.yaml': 'message: from-chart\ncolor: red\n',
  'chart/templates/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "{{ .Release.Name }}-cfg"}\ndata: {message: "{{ .Values.message }}", color: "{{ .Values.color }}"}\n',
  'chart/templates/deploy.yaml': idleDeployment('hello'),
  'chart/templates/hook.yaml': 'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: hello-pre\n  annotations: {"helm.sh/hook": pre-install, "helm.sh/hook-weight": "1"}\nspec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: "localhost/nh-dev-min:1", imagePullPolicy: IfNotPresent, command: [sh, -c, "echo chart hook"]}]\n',
  'chart/templates/tests/test.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: hello-test\n  annotations: {"helm.sh/hook": test}\nspec: {containers: [{name: c, image: x}]}\n',
};

test('helmLocal: helmVals below helmValues, the release named after the app, chart hooks run, test hooks skipped', async (t) => {
  const cwd = tree({ ...CHART, '.nocalhost/config.yaml': 'application:\n  name: hi\n  manifestType: helmLocal\n  resourcePath: [chart]\n  helmVals: {message: from-vals, color: blue}\n  helmValues: [{key: color, value: green}]\n  services: []\n' });
  const ns = await installThenUninstall(t, cwd, ['configmap/hi-cfg', 'deployment.apps/hello']);
  assert.equal(kubectl(['-n', ns, 'get', 'cm', 'hi-cfg', '-o', 'jsonpath={.data.message}/{.data.color}']).stdout, 'from-vals/green');
  assert.ok(kubectl(['-n', ns, 'get', 'job', 'hello-pre', '-o', 'jsonpath={.status.succeeded}']).stdout === '1', 'the chart pre-install hook ran');
  assert.equal(kubectl(['-n', ns, 'get', 'pod', 'hello-test', '--ignore-not-found', '-o', 'name']).stdout.trim(), '');
  await uninstall(ns, cwd);
});

test('helmGit from a file:// URL', async (t) => {
  const source = repo(CHART);
  const cwd = project(`application:\n  name: hg\n  manifestType: helmGit\n  gitUrl: ${source}\n  resourcePath: [chart]\n  services: []\n`);
  const ns = await installThenUninstall(t, cwd, ['configmap/hg-cfg', 'deployment.apps/hello']);
  await uninstall(ns, cwd);
});

test('helmRepo from a chart repository on 127.0.0.1, with helmVersion', async (t) => {
  const source = tree(CHART);
  const repoDir = join(source, 'repo');
  mkdirSync(repoDir);
  const env = { ...process.env, PATH: clusterToolsPath() };
  execFileSync('helm', ['package', join(source, 'chart'), '-d', repoDir], { env });
  const server = http.createServer((req, res) => {
    try {
      res.end(readFileSync(join(repoDir, (req.url ?? '/').split('?')[0]!.replace(/^\/+/, ''))));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  execFileSync('helm', ['repo', 'index', repoDir, '--url', url], { env });
  const cwd = project(`application:\n  name: fromrepo\n  manifestType: helmRepo\n  helmRepoUrl: ${url}\n  helmChartName: hello\n  helmVersion: 0.1.0\n  services: []\n`);
  const ns = await installThenUninstall(t, cwd, ['configmap/fromrepo-cfg', 'deployment.apps/hello']);
  await uninstall(ns, cwd);
});

test('a failing pre-install hook stops the install, shows its logs, and nh uninstall cleans up', async (t) => {
  const ns = await withNamespace(t, 'app-hookfail');
  const cwd = tree({
    'k8s/app.yaml': configMap('never', 'x'),
    'hooks/fail.yaml': 'apiVersion: batch/v1\nkind: Job\nmetadata: {name: fails}\nspec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: "localhost/nh-dev-min:1", imagePullPolicy: IfNotPresent, command: [sh, -c, "echo migration boom; exit 3"]}]\n',
    '.nocalhost/config.yaml': 'application:\n  name: hookfail\n  manifestType: rawManifestLocal\n  resourcePath: [k8s]\n  onPreInstall: [{path: hooks/fail.yaml}]\n  services: []\n',
  });
  const r = await runNh(ns, ['install', '--timeout', '2m'], { cwd });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /preInstall hook Job `fails` failed/);
  assert.match(r.stdout, /migration boom/);
  assert.match(r.stdout, /0 of 1 resources were applied/);
  assert.equal(kubectl(['-n', ns, 'get', 'cm', 'never', '--ignore-not-found', '-o', 'name']).stdout.trim(), '');
  const record = JSON.parse(kubectl(['-n', ns, 'get', 'cm', 'nh-app-hookfail', '-o', 'jsonpath={.data.record\\.json}']).stdout) as { status: string };
  assert.equal(record.status, 'failed');
  await uninstall(ns, cwd);
  assert.equal(kubectl(['-n', ns, 'get', 'cm', 'nh-app-hookfail', '--ignore-not-found', '-o', 'name']).stdout.trim(), '');
});

test('bad input is reported at its position before anything is applied', async (t) => {
  const ns = await withNamespace(t, 'app-badinput');
  const cases: [Record<string, string>, RegExp][] = [
    [{ '.nocalhost/config.yaml': 'application:\n  manifestType: rawManifestLocal\n  resourcePath: [k8s, nope]\n  services: []\n', 'k8s/a.yaml': configMap('a', 'x') },
      /\.nocalhost\/config\.yaml:3:23: resourcePath `nope` does not exist/],
    [{ '.nocalhost/config.yaml': 'application:\n  manifestType: rawManifestLocal\n  resourcePath: [k8s]\n  services: []\n', 'k8s/a.yaml': configMap('a', 'x') + '---\nkind: ConfigMap\nmetadata: {name: b\n' },
      /k8s\/a\.yaml:\d+:\d+: YAML: Flow map/],
    [{ '.nocalhost/config.yaml': 'application:\n  manifestType: rawManifestLocal\n  resourcePath: [k8s]\n  services: []\n', 'k8s/a.yaml': configMap('a', 'x') + '---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n' },
      /k8s\/a\.yaml:6:1: the cluster does not serve Widget \(example\.com\/v1\)/],
    [{ '.nocalhost/config.yaml': 'application:\n  manifestType: rawManifestLocal\n  resourcePath: [k8s]\n  services: []\n', 'k8s/a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n' },
      /k8s\/a\.yaml:1:1: ConfigMap `Bad_Name`: .*Bad_Name/],
    [{ '.nocalhost/config.yaml': 'application:\n  manifestType: kustomizeLocal\n  resourcePath: [k]\n  services: []\n', 'k/kustomization.yaml': 'resources: [missing.yaml]\n' },
      /kustomize .*failed/],
    [{ '.nocalhost/config.yaml': 'application:\n  manifestType: helmLocal\n  resourcePath: [c]\n  services: []\n', 'c/Chart.yaml': 'apiVersion: v2\nname: c\nversion: 0.1.0\n', 'c/templates/x.yaml': '{{ .Values.nope.deeper }}\n' },
      /helm template .*failed/],
    [{ '.nocalhost/config.yaml': 'application:\n  manifestType: rawManifestLocal\n  resourcePath: [k8s]\n  onPreInstall: [{path: hooks/h.yaml}]\n  services: []\n', 'k8s/a.yaml': configMap('a', 'x'), 'hooks/h.yaml': configMap('not-a-job', 'x') },
      /hooks\/h\.yaml:1:1: a hook must be a Job/],
    [{ '.nocalhost/config.yaml': 'application:\n  manifestType: rawManifestLocal\n  services: []\n' },
      /needs `resourcePath`/],
  ];
  for (const [files, expected] of cases) {
    const cwd = tree(files);
    for (const command of [['plan'], ['install']]) {
      const r = await runNh(ns, command, { cwd });
      assert.equal(r.code, 1, `${command[0]}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout + r.stderr, expected);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  }
  assert.deepEqual(kubectl(['-n', ns, 'get', 'cm,deploy,jobs', '-o', 'name']).stdout.split('\n').filter((l) => l && !l.includes('kube-root-ca')), []);
});

test('a member who may only edit the namespace is told, before anything is applied, which objects they may not create', async (t) => {
  const ns = await withNamespace(t, 'app-rbac');
  kubectl(['-n', ns, 'create', 'serviceaccount', 'member']);
  kubectl(['-n', ns, 'create', 'rolebinding', 'member-edit', '--clusterrole=edit', `--serviceaccount=${ns}:member`]);
  const kubeconfig = limitedKubeconfig(ns, 'member');
  const cwd = tree({
    '.nocalhost/config.yaml': 'application:\n  name: rbac\n  manifestType: rawManifestLocal\n  resourcePath: [k8s]\n  services: []\n',
    'k8s/a.yaml': configMap('mine', 'x') + '---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: nh-e2e-too-much}\nrules: []\n---\n' +
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: elsewhere, namespace: kube-system}\n',
  });
  for (const command of ['plan', 'install']) {
    const r = await runNh(ns, [command], { cwd, kubeconfig });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /k8s\/a\.yaml:6:1: ClusterRole `nh-e2e-too-much`: not allowed to \w+ clusterroles\.rbac\.authorization\.k8s\.io \(cluster-scoped\)/);
    assert.match(r.stdout + r.stderr, /k8s\/a\.yaml:11:1: ConfigMap `elsewhere`: not allowed to \w+ configmaps in namespace `kube-system`/);
    assert.match(r.stdout + r.stderr, /kubectl auth can-i/);
  }
  assert.equal(kubectl(['-n', ns, 'get', 'cm', 'mine', '--ignore-not-found', '-o', 'name']).stdout.trim(), '');
  assert.equal(kubectl(['get', 'clusterrole', 'nh-e2e-too-much', '--ignore-not-found', '-o', 'name']).stdout.trim(), '');
});

test('a dependency that never becomes ready fails at --timeout, naming what it waited for', async (t) => {
  const ns = await withNamespace(t, 'app-waits');
  const cwd = tree({
    'k8s/app.yaml': idleDeployment('waiter'),
    '.nocalhost/config.yaml': 'application:\n  name: waits\n  manifestType: rawManifestLocal\n  resourcePath: [k8s]\n  services:\n    - name: waiter\n      dependLabelSelector: {pods: [never-there], jobs: [job-name=nope]}\n',
  });
  const r = await runNh(ns, ['install', '--timeout', '4s'], { cwd });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /timed out waiting for pods app=never-there Ready and jobs job-name=nope complete \(before Deployment waiter\): pods app=never-there: none yet/);
  assert.equal(kubectl(['-n', ns, 'get', 'deploy', 'waiter', '--ignore-not-found', '-o', 'name']).stdout.trim(), '', 'the held workload was never applied');
  await uninstall(ns, cwd);
});
