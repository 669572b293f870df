// What goes wrong, on the real cluster: dev pods that cannot start (restored, others unaffected), quota,
// ownership conflicts and --force, lookup and RBAC errors, corrupt state, bad input. Each leaves the
// workloads as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { booking, kubectl, useNamespace, waitForDeployment } from '../support/cluster.js';
import { comparable, getObject, limitedKubeconfig, projectWith, runNh } from '../support/nh.js';

const ns = useNamespace('devmode-failures');
const originals = new Map<string, unknown>();

function config(services: readonly { name: string; type?: string; image?: string; extra?: string }[]): string {
  return [
    'configProperties: {version: v2}',
    'application:',
    '  services:',
    ...services.flatMap((s) => [
      `    - name: ${s.name}`,
      `      serviceType: ${s.type ?? 'deployment'}`,
      '      containers:',
      `        - dev: {image: "${s.image ?? 'localhost/nh-dev-min:1'}", imagePullPolicy: Never, workDir: /work${s.extra ?? ''}}`,
    ]),
    '',
  ].join('\n');
}

function assertUnchanged(...names: string[]): void {
  for (const name of names) assert.deepEqual(comparable(getObject(ns(), 'deployment', name)), originals.get(name), `${name} unchanged`);
}

function assertNoStack(output: string): void {
  assert.doesNotMatch(output, /^\s+at .+\(.*:\d+:\d+\)$/m, 'no stack trace');
}

test('the booking app is deployed', async () => {
  kubectl(['-n', ns(), 'apply', '-f', booking.manifests]);
  for (const name of booking.services) await waitForDeployment(ns(), name);
  for (const name of booking.services) originals.set(name, comparable(getObject(ns(), 'deployment', name)));
});

test('a dev image that cannot be pulled: that service is restored, the others enter dev mode', async () => {
  const project = projectWith(config([{ name: 'booking-api', image: 'localhost/no-such-image:1' }, { name: 'booking-inventory' }]));
  const r = await runNh(ns(), ['up', '--detach', '--timeout', '90s'], { cwd: project });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /booking-api: failed and was restored to its original: pod booking-api-\S+: cannot pull image `localhost\/no-such-image:1` of container `api` \(ErrImageNeverPull\)/);
  assert.match(r.stdout, /✓ booking-inventory: in dev mode/);
  assert.match(r.stdout, /1 changed, 1 failed and restored/);
  assertUnchanged('booking-api');
  assert.equal((await runNh(ns(), ['down'], { cwd: project })).code, 0);
  assertUnchanged('booking-api', 'booking-inventory');
});

test('a dev image without /bin/sh: the container cannot start, the cause is shown, the service restored', async () => {
  const project = projectWith(config([{ name: 'booking-web', image: 'localhost/pause:3.10' }]));
  const r = await runNh(ns(), ['up', '--detach', '--timeout', '90s'], { cwd: project });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /booking-web: failed and was restored to its original: pod booking-web-\S+: container `web` (cannot start \(\w+\)|keeps crashing)/);
  assert.match(r.stdout, /\/bin\/sh/);
  assertUnchanged('booking-web');
});

test('a dev pod that cannot be scheduled (too large, or an unbound claim) is reported at the timeout and restored', async () => {
  const project = projectWith(config([
    { name: 'booking-api', extra: ', resources: {requests: {cpu: "64"}}' },
    { name: 'booking-inventory', extra: ', storageClass: no-such-class, persistentVolumeDirs: [{path: /cache, capacity: 1Gi}]' },
  ]));
  const r = await runNh(ns(), ['up', '--detach', '--timeout', '20s'], { cwd: project });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /booking-api: failed and was restored to its original: not ready after 20s: pod booking-api-\S+ cannot be scheduled \(Unschedulable\): .*Insufficient cpu/);
  assert.match(r.stdout, /booking-inventory: failed and was restored to its original: not ready after 20s: pod booking-inventory-\S+ cannot be scheduled \(Unschedulable\): .*PersistentVolumeClaim/);
  assertUnchanged('booking-api', 'booking-inventory');
});

test('another identity gets a conflict naming the owner; --force takes over; down needs the owner or --force', async () => {
  const project = projectWith(config([{ name: 'booking-web' }]));
  assert.equal((await runNh(ns(), ['up', '--detach'], { cwd: project, identity: 'alice@laptop' })).code, 0);
  const devState = getObject(ns(), 'deployment', 'booking-web');

  const plan = await runNh(ns(), ['plan'], { cwd: project, identity: 'bob@desk' });
  assert.equal(plan.code, 1);
  assert.match(plan.stdout, /conflict\s+Deployment\/booking-web\s+Deployment `booking-web` is in dev mode by alice@laptop since \d{4}-\d\d-\d\dT/);
  assert.match(plan.stdout, /hint: pass --force to take it over/);
  const up = await runNh(ns(), ['up', '--detach'], { cwd: project, identity: 'bob@desk' });
  assert.equal(up.code, 1);
  assert.deepEqual(comparable(getObject(ns(), 'deployment', 'booking-web')), comparable(devState), 'a conflict writes nothing');

  const forced = await runNh(ns(), ['up', '--detach', '--force'], { cwd: project, identity: 'bob@desk' });
  assert.equal(forced.code, 0, forced.stdout + forced.stderr);
  const status = JSON.parse((await runNh(ns(), ['status', '-o', 'json'], { cwd: project })).stdout) as { services: { owner: string }[] };
  assert.equal(status.services[0]!.owner, 'bob@desk');

  assert.equal((await runNh(ns(), ['down'], { cwd: project, identity: 'alice@laptop' })).code, 1);
  assert.equal((await runNh(ns(), ['down'], { cwd: project, identity: 'bob@desk' })).code, 0);
  assertUnchanged('booking-web');
});

test('a missing workload: close names and other kinds with that name; unsupported kinds say so', async () => {
  kubectl(['-n', ns(), 'create', 'configmap', 'unused']);
  kubectl(['-n', ns(), 'apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' },
      spec: { replicas: 0, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'localhost/nh-dev-min:1' }] } } },
    }),
  });
  const project = projectWith(config([{ name: 'booking-apj' }, { name: 'db' }, { name: 'agent', type: 'clonesets.v1alpha1.apps.kruise.io' }, { name: 'booking-web' }]));
  const r = await runNh(ns(), ['plan'], { cwd: project });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /no Deployment `booking-apj` in namespace `e2e-devmode-failures-\w+`/);
  assert.match(r.stdout, /Deployments with a close name: `booking-api`/);
  assert.match(r.stdout, /there is a StatefulSet of that name: set serviceType: statefulset/);
  assert.match(r.stdout, /dev mode for custom resources is not supported yet/);
  assert.match(r.stdout, /booking-web\s+enter/);
  const up = await runNh(ns(), ['up', '--detach', 'booking-apj'], { cwd: project });
  assert.equal(up.code, 1);
  assertUnchanged(...booking.services);
});

test('RBAC: which verb on which resource is missing, with a kubectl auth can-i hint; nothing changes', async () => {
  const rules = (extra: object[]) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'nh-limited' },
    rules: [{ apiGroups: ['apps'], resources: ['deployments', 'statefulsets'], verbs: ['get', 'list', 'watch'] }, ...extra],
  });
  kubectl(['-n', ns(), 'create', 'serviceaccount', 'limited']);
  kubectl(['-n', ns(), 'create', 'rolebinding', 'limited', '--role=nh-limited', `--serviceaccount=${ns()}:limited`]);
  kubectl(['-n', ns(), 'apply', '-f', '-'], { input: JSON.stringify(rules([])) });
  const kubeconfig = limitedKubeconfig(ns(), 'limited');
  const project = projectWith(config([{ name: 'booking-api' }]));

  const plan = await runNh(ns(), ['plan'], { cwd: project, kubeconfig });
  assert.equal(plan.code, 1, plan.stdout + plan.stderr);
  assert.match(plan.stderr, new RegExp(`not allowed to list horizontalpodautoscalers.autoscaling in namespace \`${ns()}\``));
  assert.match(plan.stderr, new RegExp(`kubectl auth can-i list horizontalpodautoscalers.autoscaling -n ${ns()}`));
  assertNoStack(plan.stderr);

  kubectl(['-n', ns(), 'apply', '-f', '-'], {
    input: JSON.stringify(rules([{ apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['get', 'list'] }, { apiGroups: [''], resources: ['pods', 'events'], verbs: ['get', 'list', 'watch'] }])),
  });
  const up = await runNh(ns(), ['up', '--detach'], { cwd: project, kubeconfig });
  assert.equal(up.code, 1, up.stdout + up.stderr);
  assert.match(up.stdout, new RegExp(`not allowed to patch deployments.apps in namespace \`${ns()}\``));
  assert.match(up.stdout, new RegExp(`kubectl auth can-i patch deployments.apps -n ${ns()}`));
  assertUnchanged('booking-api');
});

test('corrupt saved state is refused with a way to recover', async () => {
  kubectl(['-n', ns(), 'annotate', 'deployment', 'booking-inventory', 'nh.dev/state={"version":1']);
  const project = projectWith(config([{ name: 'booking-inventory' }]));
  for (const command of [['plan'], ['down']]) {
    const r = await runNh(ns(), command, { cwd: project });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /the saved dev state of Deployment `booking-inventory` is missing or corrupt: its nh.dev\/state annotation is not JSON/);
    assert.match(r.stdout, /kubectl annotate deployment booking-inventory nh.dev\/state-/);
  }
  kubectl(['-n', ns(), 'annotate', 'deployment', 'booking-inventory', 'nh.dev/state-']);
  assertUnchanged('booking-inventory');
});

test('bad input: a clear error, a non-zero exit, no stack trace, nothing changed', async () => {
  const project = projectWith(config([{ name: 'booking-api' }]));
  const cases: [string[], number, RegExp, string?][] = [
    [['up', '--detach', '--timeout', 'soon'], 2, /--timeout must be a duration like 90s, 5m or 1h30m, not `soon`/],
    [['up', '--detach', 'booking-apx'], 1, /no service `booking-apx` in the config[\s\S]*did you mean `booking-api`\?/],
    [['plan', '--context', 'nope'], 1, /no context `nope` in the kubeconfig/],
    [['status', '-o', 'yaml'], 2, /-o must be text or json/],
    [['plan'], 1, /no kubeconfig: \/nonexistent\/kubeconfig does not exist/, '/nonexistent/kubeconfig'],
  ];
  for (const [args, code, message, kubeconfig] of cases) {
    const r = await runNh(ns(), args, { cwd: project, ...(kubeconfig ? { kubeconfig } : {}) });
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assertNoStack(r.stderr);
  }
  assertUnchanged(...booking.services);
});

test('quota: a dev pod the namespace quota would refuse is refused at plan time, nothing changed', async () => {
  kubectl(['-n', ns(), 'apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1', kind: 'List', items: [
        { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'defaults' }, spec: { limits: [{ type: 'Container', defaultRequest: { cpu: '10m' } }] } },
        { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'small' }, spec: { hard: { 'requests.cpu': '300m' } } },
      ],
    }),
  });
  try {
    const project = projectWith(config([{ name: 'booking-api', extra: ', resources: {requests: {cpu: 500m}}' }]));
    const r = await runNh(ns(), ['up', '--detach', '--timeout', '60s'], { cwd: project });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    // The plan reads the quota: refused before anything is written, naming the quota and the amounts.
    assert.match(r.stdout, /booking-api: entering dev mode would exceed ResourceQuota `small`: requests\.cpu would be \d+m of 300m \(the dev pod asks 500m/);
    assertUnchanged('booking-api');
  } finally {
    kubectl(['-n', ns(), 'delete', 'resourcequota', 'small']);
    kubectl(['-n', ns(), 'delete', 'limitrange', 'defaults']);
  }
});

