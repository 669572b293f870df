// Dev spaces on the real cluster: create with the app → a member's kubeconfig → nh up inside the space as
// that member → share with a second member who sees it and execs → unshare → delete leaves nothing. Admin-only
// actions by a member, bad input, and a quota too small for the dev pod are refused with nothing changed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { kubectl } from '../support/cluster.js';
import { idleDeployment, projectWith, runNh } from '../support/nh.js';
import { repoRoot } from '../../support/paths.js';

const suffix = Math.random().toString(36).slice(2, 7);
const space = `e2e-space-${suffix}`;
const alice = `alice-${suffix}`;
const bob = `bob-${suffix}`;
const booking = join(repoRoot, 'examples/booking');
const made = new Set<string>([space]);
const kubeconfigs = new Map<string, string>();

after(() => {
  for (const name of made) kubectl(['delete', 'namespace', name, '--ignore-not-found', '--wait=false'], { allowFailure: true });
  for (const member of [alice, bob, `m1-${suffix}`, `m2-${suffix}`, `q-${suffix}`]) {
    kubectl(['-n', 'nh-members', 'delete', 'serviceaccount,role,rolebinding', '-l', `nh.dev/member=${member}`, '--ignore-not-found'], { allowFailure: true });
  }
});

/** `nh space …` as the cluster admin (no -n: spaces name their namespaces). */
const admin = (args: string[], cwd = repoRoot) => runNh('default', ['space', ...args], { cwd });

async function kubeconfigFor(name: string, member: string): Promise<string> {
  const path = join(projectWith(''), `${member}.kubeconfig`);
  const r = await admin(['kubeconfig', name, '--member', member, '--ttl', '1h', '--out', path]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /eyJ/, 'no token on the terminal when written to a file');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  kubeconfigs.set(member, path);
  return path;
}

test('create with --app: a space with quota, defaults and roles, the app installed and ready', async () => {
  const r = await admin(['create', space, '--owner', alice, '--cpu', '4', '--memory', '8Gi', '--app', booking, '--timeout', '3m']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /app: installed \(revision 1\)/);
  assert.equal(kubectl(['get', 'namespace', space, '-o', 'jsonpath={.metadata.labels.nh\\.dev/space}/{.metadata.labels.nh\\.dev/owner}']).stdout, `true/${alice}`);
  assert.equal(kubectl(['-n', space, 'get', 'resourcequota', 'nh-quota', '-o', 'jsonpath={.spec.hard.requests\\.memory}']).stdout, '8Gi');
  assert.equal(kubectl(['-n', space, 'get', 'limitrange', 'nh-defaults', '-o', 'jsonpath={.spec.limits[0].defaultRequest.memory}']).stdout, '128Mi');
  assert.equal(kubectl(['-n', space, 'get', 'deploy', 'booking-api', '-o', 'jsonpath={.status.availableReplicas}']).stdout, '1');
});

test("the owner's kubeconfig: nh up of the app inside the space, nh space list shows exactly their space", async () => {
  const kubeconfig = await kubeconfigFor(space, alice);
  const up = await runNh(space, ['up', '--detach', '--timeout', '3m'], { cwd: booking, kubeconfig });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  assert.match(up.stdout, /3 services: 3 changed\./);
  const list = JSON.parse((await runNh(space, ['space', 'list', '-o', 'json'], { kubeconfig })).stdout) as { spaces: { name: string; members: unknown; devServices: unknown[] }[] };
  assert.deepEqual(list.spaces.map((s) => s.name), [space]);
  assert.equal(list.spaces[0]!.members, undefined, 'members are for admins to see');
  assert.equal(list.spaces[0]!.devServices.length, 3);
});

test('a member cannot do what only an admin may: told what is missing, nothing changed', async () => {
  const kubeconfig = kubeconfigs.get(alice)!;
  const share = await runNh(space, ['space', 'share', space, '--with', bob], { kubeconfig });
  assert.equal(share.code, 1);
  assert.match(share.stderr, /not allowed to \w+ rolebindings\.rbac\.authorization\.k8s\.io in namespace/);
  assert.match(share.stderr, /kubectl auth can-i/);
  const create = await runNh(space, ['space', 'create', `other-${suffix}`, '--owner', alice], { kubeconfig });
  assert.equal(create.code, 1);
  assert.match(create.stderr, /not allowed to \w+ namespaces \(cluster-scoped\)/);
  assert.equal(kubectl(['-n', space, 'get', 'rolebinding', `nh-member-${bob}`, '--ignore-not-found', '-o', 'name']).stdout.trim(), '');
  assert.equal(kubectl(['get', 'namespace', `other-${suffix}`, '--ignore-not-found', '-o', 'name']).stdout.trim(), '');
});

test('share with a second member, who sees the space and can exec; unshare takes it away', async () => {
  const shared = await admin(['share', space, '--with', bob, '--role', 'edit']);
  assert.equal(shared.code, 0, shared.stdout + shared.stderr);
  const kubeconfig = await kubeconfigFor(space, bob);
  const list = JSON.parse((await runNh(space, ['space', 'list', '-o', 'json'], { kubeconfig })).stdout) as { spaces: { name: string }[] };
  assert.deepEqual(list.spaces.map((s) => s.name), [space]);
  // Flags runNh appends land after `--` (in the remote command): the kubeconfig comes from KUBECONFIG.
  const exec = await runNh(space, ['exec', 'booking-api', '--', 'echo', 'hello from bob'], { cwd: booking, kubeconfig, env: { KUBECONFIG: kubeconfig } });
  assert.equal(exec.code, 0, exec.stdout + exec.stderr);
  assert.match(exec.stdout, /hello from bob/);
  const show = await admin(['show', space]);
  assert.match(show.stdout, new RegExp(`members: +${alice} \\(owner\\), ${bob} \\(edit\\)`));

  const unshared = await admin(['unshare', space, '--with', bob]);
  assert.equal(unshared.code, 0, unshared.stdout + unshared.stderr);
  const after = await runNh(space, ['space', 'list'], { kubeconfig });
  assert.equal(after.code, 1, 'bob had no other space: his ServiceAccount, and so his token, are gone');
  assert.equal(kubectl(['-n', 'nh-members', 'get', 'serviceaccount', bob, '--ignore-not-found', '-o', 'name']).stdout.trim(), '');
});

test('bad input: names, ids, quotas, existing spaces and namespaces that are not spaces; exit 1, nothing changed', async () => {
  const cases: [string[], RegExp][] = [
    [['create', 'Bad_Name', '--owner', alice], /the space name `Bad_Name` is not a DNS-1123 label.*`bad-name` would do/],
    [['create', `x-${suffix}`, '--owner', 'Alice@corp', '--cpu', 'lots', '--memory', '1Zi', '--pods=-3'], /--owner `Alice@corp`[^]*--cpu `lots`[^]*--memory `1Zi`[^]*--pods `-3`/],
    [['create', space, '--owner', alice], /space `.*` exists already/],
    [['create', 'kube-system', '--owner', alice], /namespace `kube-system` exists and is not an nh space/],
    [['delete', 'kube-system', '--yes'], /not an nh space; nh never takes it over or deletes it/],
    [['share', `nope-${suffix}`, '--with', bob], /there is no space `nope-/],
    [['kubeconfig', space, '--member', `stranger-${suffix}`], /is not a member of space/],
    [['share', space, '--with', bob, '--role', 'admin'], /--role must be edit or view/],
  ];
  for (const [args, expected] of cases) {
    const r = await admin(args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, expected);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  assert.equal(kubectl(['get', 'namespace', 'bad-name', `x-${suffix}`, '--ignore-not-found', '-o', 'name']).stdout.trim(), '');
  assert.equal(kubectl(['get', 'namespace', 'kube-system', '-o', 'jsonpath={.metadata.labels.nh\\.dev/space}']).stdout, '');
});

test('a space too small for the dev pod is refused at plan time, naming the quota', async () => {
  const small = `e2e-small-${suffix}`;
  made.add(small);
  const owner = `q-${suffix}`;
  assert.equal((await admin(['create', small, '--owner', owner, '--cpu', '1', '--memory', '600Mi'])).code, 0);
  kubectl(['-n', small, 'apply', '-f', '-'], { input: idleDeployment('hungry') });
  kubectl(['-n', small, 'rollout', 'status', 'deploy/hungry', '--timeout=120s']);
  const cwd = projectWith('name: hungry\ncontainers:\n  - dev:\n      image: localhost/nh-dev-min:1\n      resources: {requests: {memory: 1Gi}, limits: {memory: 1Gi}}\n');
  const kubeconfig = await kubeconfigFor(small, owner);
  const plan = await runNh(small, ['plan'], { cwd, kubeconfig });
  assert.equal(plan.code, 1, plan.stdout + plan.stderr);
  assert.match(plan.stdout, /ResourceQuota `nh-quota`: (requests|limits)\.memory would be 1Gi of 600Mi/);
  const before = kubectl(['-n', small, 'get', 'deploy', 'hungry', '-o', 'jsonpath={.metadata.resourceVersion}']).stdout;
  const up = await runNh(small, ['up', '--detach'], { cwd, kubeconfig });
  assert.equal(up.code, 1);
  assert.equal(kubectl(['-n', small, 'get', 'deploy', 'hungry', '-o', 'jsonpath={.metadata.resourceVersion}']).stdout, before, 'nothing written');
});

test('reset: every service leaves dev mode, the app recorded at create is installed again', async () => {
  const r = await admin(['reset', space, '--timeout', '3m']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /3 services: 3 changed\./);
  assert.match(r.stdout, /uninstalled/);
  assert.match(r.stdout, /app: installed \(revision 1\)/);
  assert.equal(kubectl(['-n', space, 'get', 'deploy', '-l', 'nh.dev/mode', '-o', 'name']).stdout.trim(), '');
  assert.equal(kubectl(['-n', space, 'get', 'deploy', 'booking-api', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']).stdout, 'localhost/booking-api:1.0');
});

test('delete removes the space and everything of it, members with no space left included', async () => {
  const r = await admin(['delete', space, '--yes', '--timeout', '3m']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(kubectl(['get', 'namespace', space, '--ignore-not-found', '-o', 'name']).stdout.trim(), '');
  assert.equal(kubectl(['-n', 'nh-members', 'get', 'serviceaccount,role,rolebinding', '-l', `nh.dev/member=${alice}`, '-o', 'name']).stdout.trim(), '');
  const list = JSON.parse((await admin(['list', '-o', 'json'])).stdout) as { spaces: { name: string }[] };
  assert.ok(!list.spaces.some((s) => s.name === space));
});
