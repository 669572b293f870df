// The isolation matrix: two spaces, two members. Every verb nh uses against every kind it touches, in the
// other member's space and cluster-wide, is denied; in one's own space everything nh needs is allowed, and
// nothing that would let a member raise their own rights (RBAC, quota) is. Asked of the API server itself
// (SubjectAccessReview, as the member's ServiceAccount), all in one request batch.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { kubectl } from '../support/cluster.js';
import { runNh } from '../support/nh.js';

const suffix = Math.random().toString(36).slice(2, 7);
const spaces = [`e2e-iso-a-${suffix}`, `e2e-iso-b-${suffix}`] as const;
const members = [`m1-${suffix}`, `m2-${suffix}`] as const;

after(() => {
  for (const s of spaces) kubectl(['delete', 'namespace', s, '--ignore-not-found', '--wait=false'], { allowFailure: true });
  for (const m of members) kubectl(['-n', 'nh-members', 'delete', 'serviceaccount,role,rolebinding', '-l', `nh.dev/member=${m}`, '--ignore-not-found'], { allowFailure: true });
});

interface Check { readonly verb: string; readonly group: string; readonly resource: string; readonly subresource?: string; readonly namespace?: string }

const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
/** Every kind nh reads or writes in a space. */
const NH_KINDS: readonly [group: string, resource: string, subresource?: string][] = [
  ['', 'pods'], ['', 'pods', 'exec'], ['', 'pods', 'portforward'], ['', 'pods', 'log'], ['', 'services'], ['', 'configmaps'], ['', 'secrets'],
  ['', 'persistentvolumeclaims'], ['', 'events'], ['', 'serviceaccounts'], ['apps', 'deployments'], ['apps', 'statefulsets'], ['apps', 'replicasets'],
  ['batch', 'jobs'], ['batch', 'cronjobs'], ['autoscaling', 'horizontalpodautoscalers'], ['', 'resourcequotas'], ['', 'limitranges'],
  ['rbac.authorization.k8s.io', 'roles'], ['rbac.authorization.k8s.io', 'rolebindings'],
];
const CLUSTER_KINDS: readonly [string, string][] = [
  ['', 'namespaces'], ['', 'nodes'], ['', 'persistentvolumes'], ['rbac.authorization.k8s.io', 'clusterroles'], ['rbac.authorization.k8s.io', 'clusterrolebindings'],
  ['apiextensions.k8s.io', 'customresourcedefinitions'], ['storage.k8s.io', 'storageclasses'],
];
/** What nh needs in its own space (install, dev mode, sync, exec, forwards, logs, hooks, quota check). */
const NEEDED: readonly Check[] = [
  ...['get', 'list', 'watch', 'create', 'patch', 'delete'].flatMap((verb) => [['', 'pods'], ['', 'services'], ['', 'configmaps'], ['', 'secrets'], ['', 'persistentvolumeclaims'],
    ['apps', 'deployments'], ['apps', 'statefulsets'], ['batch', 'jobs'], ['autoscaling', 'horizontalpodautoscalers']].map(([group, resource]) => ({ verb, group: group!, resource: resource! }))),
  { verb: 'create', group: '', resource: 'pods', subresource: 'exec' }, { verb: 'create', group: '', resource: 'pods', subresource: 'portforward' },
  { verb: 'get', group: '', resource: 'pods', subresource: 'log' }, { verb: 'list', group: '', resource: 'events' },
  { verb: 'list', group: '', resource: 'resourcequotas' }, { verb: 'list', group: '', resource: 'limitranges' }, { verb: 'get', group: '', resource: 'namespaces' },
];
/** Never in one's own space: editing RBAC or the quota would let a member raise their own rights or limits. */
const ESCALATION: readonly Check[] = ['create', 'update', 'patch', 'delete'].flatMap((verb) => [
  { verb, group: 'rbac.authorization.k8s.io', resource: 'roles' }, { verb, group: 'rbac.authorization.k8s.io', resource: 'rolebindings' },
  { verb, group: '', resource: 'resourcequotas' }, { verb, group: '', resource: 'limitranges' },
]);

/** One SubjectAccessReview per check, created in a single kubectl call; the answers in order. */
function allowed(member: string, checks: readonly Check[]): boolean[] {
  const user = `system:serviceaccount:nh-members:${member}`;
  const list = {
    apiVersion: 'v1', kind: 'List',
    items: checks.map((c) => ({
      apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
      spec: { user, groups: ['system:serviceaccounts', 'system:serviceaccounts:nh-members', 'system:authenticated'],
        resourceAttributes: { verb: c.verb, group: c.group, resource: c.resource, ...(c.subresource ? { subresource: c.subresource } : {}), ...(c.namespace !== undefined ? { namespace: c.namespace } : {}) } },
    })),
  };
  const out = kubectl(['create', '-f', '-', '-o', 'jsonpath={.status.allowed}{"\\n"}'], { input: JSON.stringify(list) }).stdout.trim().split('\n');
  assert.equal(out.length, checks.length, 'one answer per check');
  return out.map((line) => line === 'true');
}

const describe = (c: Check) => `${c.verb} ${c.resource}${c.subresource ? `/${c.subresource}` : ''}${c.group ? `.${c.group}` : ''} in ${c.namespace ?? '(cluster)'}`;

test('two spaces, two members', async () => {
  for (const [i, space] of spaces.entries()) {
    const r = await runNh('default', ['space', 'create', space, '--owner', members[i]!]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  }
});

test("every verb nh uses on every kind, in the other member's space and cluster-wide, is denied", () => {
  let denied = 0;
  for (const [i, member] of members.entries()) {
    const other = spaces[1 - i]!;
    const checks: Check[] = [
      ...NH_KINDS.flatMap(([group, resource, subresource]) => VERBS.map((verb) => ({ verb, group, resource, ...(subresource ? { subresource } : {}), namespace: other }))),
      // Cluster-wide reads of namespaced kinds (namespace "" = all namespaces).
      ...NH_KINDS.flatMap(([group, resource, subresource]) => ['list', 'watch'].map((verb) => ({ verb, group, resource, ...(subresource ? { subresource } : {}), namespace: '' }))),
      ...CLUSTER_KINDS.flatMap(([group, resource]) => VERBS.map((verb) => ({ verb, group, resource }))),
      { verb: 'get', group: '', resource: 'namespaces', namespace: other },
    ];
    const answers = allowed(member, checks);
    const leaks = checks.filter((_, k) => answers[k]).map(describe);
    assert.deepEqual(leaks, [], `${member} may do these outside their space`);
    denied += checks.length;
  }
  console.log(`isolation: ${denied} checks outside each member's own space, 0 allowed`);
});

test('in their own space each member may do everything nh needs, and nothing that raises their rights', () => {
  for (const [i, member] of members.entries()) {
    const own = spaces[i]!;
    const needed = NEEDED.map((c) => ({ ...c, namespace: own }));
    const answers = allowed(member, needed);
    assert.deepEqual(needed.filter((_, k) => !answers[k]).map(describe), [], `${member} lacks these in their own space`);
    const escalation = ESCALATION.map((c) => ({ ...c, namespace: own }));
    const raised = allowed(member, escalation);
    assert.deepEqual(escalation.filter((_, k) => raised[k]).map(describe), [], `${member} may raise their rights`);
  }
});
