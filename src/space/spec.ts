/**
 * A dev space as cluster objects, pure: a namespace marked as an nh space, its quota and container defaults,
 * the Roles that let members do what nh needs inside it and nothing outside it, and each member's binding and
 * ServiceAccount. The cluster is the store: a space is a labelled Namespace, membership is RoleBindings, and a
 * member's own ServiceAccount lists their spaces so their credentials can find them.
 */
import type { KubeObject } from '../model/kube-object.js';
import { parseQuantity } from '../model/quantity.js';

export const SPACE_LABEL = 'nh.dev/space';
export const OWNER_LABEL = 'nh.dev/owner';
export const MEMBER_LABEL = 'nh.dev/member';
export const ROLE_LABEL = 'nh.dev/role';
export const LIMITS_ANNOTATION = 'nh.dev/limits';
export const CREATED_BY_ANNOTATION = 'nh.dev/created-by';
export const APP_CONFIG_ANNOTATION = 'nh.dev/app-config';
/** On a member's ServiceAccount: JSON list of their spaces (readable by the member themselves). */
export const SPACES_ANNOTATION = 'nh.dev/spaces';
/** Where members' ServiceAccounts live: one identity per member, whatever spaces they are in. */
export const MEMBERS_NAMESPACE = 'nh-members';
export const QUOTA_NAME = 'nh-quota';
export const LIMIT_RANGE_NAME = 'nh-defaults';
const MANAGED = { 'app.kubernetes.io/managed-by': 'nh' };

export type MemberRole = 'owner' | 'edit' | 'view';

export interface SpaceLimits {
  readonly cpu: string;
  readonly memory: string;
  readonly pods: number;
  readonly storage: string;
}

export const SPACE_DEFAULTS: SpaceLimits = { cpu: '4', memory: '8Gi', pods: 30, storage: '20Gi' };
/** Containers without requests or limits get these (LimitRange), so they still start under the quota. */
export const CONTAINER_DEFAULTS = { request: { cpu: '100m', memory: '128Mi' }, limit: { cpu: '500m', memory: '512Mi' } } as const;

/** What a name must be to be a namespace (and a label value): a DNS-1123 label. */
export function dnsLabelProblem(what: string, name: string): string | undefined {
  if (name.length === 0) return `${what} is empty`;
  if (name.length > 63) return `${what} \`${name}\` is ${name.length} characters; at most 63`;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
    const fixed = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
    return `${what} \`${name}\` is not a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)${fixed ? `; \`${fixed}\` would do` : ''}`;
  }
  return undefined;
}

/** Every problem with the limits, all at once; undefined when they are usable. */
export function limitsProblems(limits: { cpu: string; memory: string; pods: string; storage: string }): string[] {
  const problems: string[] = [];
  for (const key of ['cpu', 'memory', 'storage'] as const) {
    const value = parseQuantity(limits[key]);
    if (value === undefined || value <= 0) problems.push(`--${key} \`${limits[key]}\` is not a Kubernetes quantity (e.g. ${key === 'cpu' ? '4 or 500m' : '8Gi'})`);
  }
  if (!/^[1-9][0-9]*$/.test(limits.pods)) problems.push(`--pods \`${limits.pods}\` is not a whole number above 0`);
  // The quota caps limits too: a space must hold at least one container with the default limits.
  if ((parseQuantity(limits.cpu) ?? Infinity) < parseQuantity(CONTAINER_DEFAULTS.limit.cpu)!) problems.push(`--cpu ${limits.cpu} is below one container's default limit (${CONTAINER_DEFAULTS.limit.cpu})`);
  if ((parseQuantity(limits.memory) ?? Infinity) < parseQuantity(CONTAINER_DEFAULTS.limit.memory)!) problems.push(`--memory ${limits.memory} is below one container's default limit (${CONTAINER_DEFAULTS.limit.memory})`);
  return problems;
}

export function namespaceObject(space: string, owner: string, limits: SpaceLimits, createdBy: string, appConfig: string | undefined): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Namespace',
    metadata: {
      name: space,
      labels: { ...MANAGED, [SPACE_LABEL]: 'true', [OWNER_LABEL]: owner },
      annotations: { [LIMITS_ANNOTATION]: JSON.stringify(limits), [CREATED_BY_ANNOTATION]: createdBy, ...(appConfig ? { [APP_CONFIG_ANNOTATION]: appConfig } : {}) },
    },
  };
}

export function quotaObject(space: string, limits: SpaceLimits): KubeObject {
  return {
    apiVersion: 'v1', kind: 'ResourceQuota',
    metadata: { name: QUOTA_NAME, namespace: space, labels: { ...MANAGED, [SPACE_LABEL]: 'true' } },
    spec: {
      hard: {
        'requests.cpu': limits.cpu, 'limits.cpu': limits.cpu, 'requests.memory': limits.memory, 'limits.memory': limits.memory,
        pods: String(limits.pods), 'requests.storage': limits.storage,
      },
    },
  };
}

export function limitRangeObject(space: string): KubeObject {
  return {
    apiVersion: 'v1', kind: 'LimitRange',
    metadata: { name: LIMIT_RANGE_NAME, namespace: space, labels: { ...MANAGED, [SPACE_LABEL]: 'true' } },
    spec: { limits: [{ type: 'Container', defaultRequest: { ...CONTAINER_DEFAULTS.request }, default: { ...CONTAINER_DEFAULTS.limit } }] },
  };
}

const ALL = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const READ = ['get', 'list', 'watch'];

/** What nh does in a space (install, dev mode, sync, exec, forwards, logs, hooks) and nothing more: no RBAC, no quota writes. */
function rules(write: boolean) {
  const verbs = write ? ALL : READ;
  return [
    { apiGroups: [''], resources: ['pods', 'services', 'configmaps', 'persistentvolumeclaims', 'serviceaccounts', ...(write ? ['secrets'] : [])], verbs },
    { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets', 'deployments/scale', 'statefulsets/scale'], verbs },
    { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs },
    { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs },
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs },
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs },
    { apiGroups: [''], resources: ['pods/log', 'events', 'endpoints', 'resourcequotas', 'limitranges'], verbs: READ },
    // A RoleBinding in the space grants get on the space's own Namespace object: `nh space list` reads it.
    { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
    ...(write ? [{ apiGroups: [''], resources: ['pods/exec', 'pods/portforward', 'pods/attach', 'pods/eviction'], verbs: ['get', 'create'] }] : []),
  ];
}

export function roleObjects(space: string): KubeObject[] {
  const role = (name: string, write: boolean): KubeObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role',
    metadata: { name, namespace: space, labels: { ...MANAGED, [SPACE_LABEL]: 'true' } },
    rules: rules(write),
  });
  return [role('nh-member', true), role('nh-viewer', false)];
}

export function bindingName(member: string): string {
  return `nh-member-${member}`;
}

export function memberBinding(space: string, member: string, role: MemberRole): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding',
    metadata: { name: bindingName(member), namespace: space, labels: { ...MANAGED, [SPACE_LABEL]: 'true', [MEMBER_LABEL]: member, [ROLE_LABEL]: role } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role === 'view' ? 'nh-viewer' : 'nh-member' },
    subjects: [{ kind: 'ServiceAccount', name: member, namespace: MEMBERS_NAMESPACE }],
  };
}

export function membersNamespace(): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: MEMBERS_NAMESPACE, labels: { ...MANAGED, 'nh.dev/members': 'true' } } };
}

export function memberAccount(member: string, spaces: readonly string[]): KubeObject {
  return {
    apiVersion: 'v1', kind: 'ServiceAccount',
    metadata: { name: member, namespace: MEMBERS_NAMESPACE, labels: { ...MANAGED, [MEMBER_LABEL]: member }, annotations: { [SPACES_ANNOTATION]: JSON.stringify([...new Set(spaces)].sort()) } },
    // No token Secret: kubeconfigs carry bound, expiring tokens from TokenRequest.
    automountServiceAccountToken: false,
  };
}

/** Lets a member read their own ServiceAccount (their list of spaces), and nothing else there. */
export function memberSelfAccess(member: string): KubeObject[] {
  const name = `nh-self-${member}`;
  const labels = { ...MANAGED, [MEMBER_LABEL]: member };
  return [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace: MEMBERS_NAMESPACE, labels }, rules: [{ apiGroups: [''], resources: ['serviceaccounts'], resourceNames: [member], verbs: ['get'] }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace: MEMBERS_NAMESPACE, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: [{ kind: 'ServiceAccount', name: member, namespace: MEMBERS_NAMESPACE }] },
  ];
}

export function spacesOf(account: KubeObject | undefined): string[] {
  try {
    const list = JSON.parse(account?.metadata.annotations?.[SPACES_ANNOTATION] ?? '[]') as unknown;
    return Array.isArray(list) ? list.filter((s): s is string => typeof s === 'string') : [];
  } catch {
    return [];
  }
}

/** A kubeconfig for a member, scoped to the space: the admin's server and CA, a bound token. */
export function memberKubeconfig(space: string, member: string, server: { url: string; certificateAuthorityData: string | undefined }, token: string): string {
  const context = `nh/${space}`;
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': context,
    clusters: [{ name: context, cluster: { server: server.url, ...(server.certificateAuthorityData ? { 'certificate-authority-data': server.certificateAuthorityData } : {}) } }],
    users: [{ name: `${member}@${space}`, user: { token } }],
    contexts: [{ name: context, context: { cluster: context, user: `${member}@${space}`, namespace: space } }],
  }, null, 2) + '\n';
}
