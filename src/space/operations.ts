/**
 * What `nh space` does on the cluster. Every check runs before the first write, and the first write is the one
 * that needs an admin (so a member's attempt changes nothing and says which right is missing); writes are
 * server-side applies, so running a command again converges.
 */
import { NhError } from '../errors.js';
import { CORE, type KubeClient } from '../kube/client.js';
import { isKubeError } from '../kube/errors.js';
import { readRecord } from '../model/app-record.js';
import { DEV_MODE_LABEL } from '../model/dev-mode.js';
import type { KubeObject } from '../model/kube-object.js';
import { readDevState } from '../plan/dev-state.js';
import {
  LIMITS_ANNOTATION, MEMBERS_NAMESPACE, MEMBER_LABEL, OWNER_LABEL, QUOTA_NAME, ROLE_LABEL, SPACE_LABEL, bindingName, limitRangeObject,
  memberAccount, memberBinding, memberSelfAccess, membersNamespace, namespaceObject, quotaObject, roleObjects, spacesOf,
  type MemberRole, type SpaceLimits,
} from './spec.js';

export interface SpaceSummary {
  readonly name: string;
  readonly owner: string;
  /** Members and their roles; undefined when the reader may not see the bindings (a member's view). */
  readonly members: readonly { readonly id: string; readonly role: MemberRole }[] | undefined;
  readonly limits: SpaceLimits | undefined;
  /** Quota key → used / hard, as the API server reports them. */
  readonly quota: Readonly<Record<string, { readonly used: string; readonly hard: string }>>;
  readonly apps: readonly { readonly name: string; readonly status: string; readonly revision: number }[];
  readonly devServices: readonly { readonly workload: string; readonly owner: string; readonly since: string }[];
}

const apply = (kube: KubeClient, resource: (typeof CORE)[keyof typeof CORE], object: KubeObject) =>
  kube.applyObject(resource, object.metadata.namespace, object, { dryRun: false });

export async function getSpace(kube: KubeClient, name: string): Promise<KubeObject> {
  const ns = await kube.getObject(CORE.Namespace, undefined, name);
  if (!ns) throw new NhError('NH_SPACE_NOT_FOUND', `there is no space \`${name}\``, { hint: '`nh space list` shows the spaces you can see' });
  if (ns.metadata.labels?.[SPACE_LABEL] !== 'true') {
    throw new NhError('NH_NOT_A_SPACE', `namespace \`${name}\` exists but is not an nh space; nh never takes it over or deletes it`, { hint: 'pick another name for the space' });
  }
  return ns;
}

export async function createSpace(kube: KubeClient, input: { name: string; owner: string; limits: SpaceLimits; createdBy: string; appConfig: string | undefined }): Promise<void> {
  const existing = await kube.getObject(CORE.Namespace, undefined, input.name);
  if (existing) {
    throw existing.metadata.labels?.[SPACE_LABEL] === 'true'
      ? new NhError('NH_SPACE_EXISTS', `space \`${input.name}\` exists already (owner ${existing.metadata.labels[OWNER_LABEL] ?? '?'})`, { hint: '`nh space show` describes it; `nh space share` adds members' })
      : new NhError('NH_NOT_A_SPACE', `namespace \`${input.name}\` exists and is not an nh space; nh never takes it over`, { hint: 'pick another name for the space' });
  }
  await apply(kube, CORE.Namespace, namespaceObject(input.name, input.owner, input.limits, input.createdBy, input.appConfig));
  await apply(kube, CORE.ResourceQuota, quotaObject(input.name, input.limits));
  await apply(kube, CORE.LimitRange, limitRangeObject(input.name));
  for (const role of roleObjects(input.name)) await apply(kube, CORE.Role, role);
  await addMember(kube, input.name, input.owner, 'owner');
  await quotaCounted(kube, input.name);
}

/**
 * Pods are refused while a new quota has no usage yet ("status unknown for quota"), and their controllers then
 * back off for seconds: the space is ready once the quota controller has counted it.
 */
async function quotaCounted(kube: KubeClient, space: string): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    const quota = await kube.getObject(CORE.ResourceQuota, space, QUOTA_NAME);
    if ((quota?.['status'] as { used?: unknown } | undefined)?.used) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The member's binding in the space and the space in their ServiceAccount's list; a changed role replaces the binding. */
export async function addMember(kube: KubeClient, space: string, member: string, role: MemberRole): Promise<void> {
  const binding = memberBinding(space, member, role);
  const current = await kube.getObject(CORE.RoleBinding, space, binding.metadata.name);
  // roleRef cannot change: a binding to the other Role is replaced.
  if (current && (current['roleRef'] as { name?: string } | undefined)?.name !== (binding['roleRef'] as { name: string }).name) await kube.deleteObject(CORE.RoleBinding, space, binding.metadata.name);
  await apply(kube, CORE.RoleBinding, binding);
  await apply(kube, CORE.Namespace, membersNamespace());
  const account = await kube.getObject(CORE.ServiceAccount, MEMBERS_NAMESPACE, member);
  await apply(kube, CORE.ServiceAccount, memberAccount(member, [...spacesOf(account), space]));
  const [selfRole, selfBinding] = memberSelfAccess(member);
  await apply(kube, CORE.Role, selfRole!);
  await apply(kube, CORE.RoleBinding, selfBinding!);
}

export async function removeMember(kube: KubeClient, space: string, member: string): Promise<void> {
  const binding = await kube.getObject(CORE.RoleBinding, space, bindingName(member));
  if (binding?.metadata.labels?.[ROLE_LABEL] === 'owner') {
    throw new NhError('NH_SPACE_INVALID', `\`${member}\` owns space \`${space}\`; the owner cannot be unshared`, { hint: '`nh space delete` removes the space' });
  }
  if (!binding) throw new NhError('NH_NOT_A_MEMBER', `\`${member}\` is not a member of space \`${space}\``, { hint: '`nh space show` lists the members' });
  await kube.deleteObject(CORE.RoleBinding, space, bindingName(member));
  await forgetSpace(kube, member, space);
}

/** Drops the space from the member's list; a member left with no space loses their ServiceAccount (and its tokens). */
async function forgetSpace(kube: KubeClient, member: string, space: string): Promise<void> {
  const account = await kube.getObject(CORE.ServiceAccount, MEMBERS_NAMESPACE, member);
  if (!account) return;
  const left = spacesOf(account).filter((s) => s !== space);
  if (left.length) {
    await apply(kube, CORE.ServiceAccount, memberAccount(member, left));
    return;
  }
  await kube.deleteObject(CORE.ServiceAccount, MEMBERS_NAMESPACE, member);
  await kube.deleteObject(CORE.RoleBinding, MEMBERS_NAMESPACE, `nh-self-${member}`);
  await kube.deleteObject(CORE.Role, MEMBERS_NAMESPACE, `nh-self-${member}`);
}

export async function deleteSpace(kube: KubeClient, name: string, timeoutMs: number): Promise<void> {
  await getSpace(kube, name);
  const bindings = await kube.listObjects(CORE.RoleBinding, name, { labelSelector: MEMBER_LABEL });
  await kube.deleteObject(CORE.Namespace, undefined, name);
  for (const b of bindings.items) await forgetSpace(kube, b.metadata.labels![MEMBER_LABEL]!, name);
  const deadline = Date.now() + timeoutMs;
  while (await kube.getObject(CORE.Namespace, undefined, name)) {
    if (Date.now() > deadline) {
      throw new NhError('NH_WAIT_TIMEOUT', `namespace \`${name}\` is still terminating`, { hint: `see what holds it: \`kubectl get namespace ${name} -o yaml\` (finalizers, conditions)` });
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export async function memberToken(kube: KubeClient, space: string, member: string, seconds: number): Promise<{ token: string; expires: string }> {
  await getSpace(kube, space);
  if (!(await kube.getObject(CORE.RoleBinding, space, bindingName(member)))) {
    throw new NhError('NH_NOT_A_MEMBER', `\`${member}\` is not a member of space \`${space}\``, { hint: `\`nh space share ${space} --with ${member}\` adds them` });
  }
  return kube.requestToken(MEMBERS_NAMESPACE, member, seconds);
}

/**
 * Every space the credentials may see: an admin lists them all in a handful of cluster-wide reads, however many
 * spaces there are; a member, who may not list namespaces, reads their own ServiceAccount's list of spaces.
 */
export async function listSpaces(kube: KubeClient, only?: string): Promise<SpaceSummary[]> {
  try {
    return await listAsAdmin(kube, only);
  } catch (error) {
    if (!isKubeError(error, 403)) throw error;
  }
  return listAsMember(kube, only);
}

async function listAsAdmin(kube: KubeClient, only: string | undefined): Promise<SpaceSummary[]> {
  const selector = { labelSelector: `${SPACE_LABEL}=true` };
  const [namespaces, quotas, bindings, records, deployments, statefulsets] = await Promise.all([
    kube.listObjects(CORE.Namespace, undefined, selector),
    kube.listObjects(CORE.ResourceQuota, undefined, selector),
    kube.listObjects(CORE.RoleBinding, undefined, { labelSelector: MEMBER_LABEL }),
    kube.listObjects(CORE.ConfigMap, undefined, { labelSelector: 'nh.dev/record=app' }),
    kube.listObjects(CORE.Deployment, undefined, { labelSelector: DEV_MODE_LABEL }),
    kube.listObjects(CORE.StatefulSet, undefined, { labelSelector: DEV_MODE_LABEL }),
  ]);
  const inSpace = (name: string) => (o: KubeObject) => o.metadata.namespace === name;
  return namespaces.items
    .filter((ns) => !only || ns.metadata.name === only)
    .map((ns) => summarize(ns, quotas.items.filter(inSpace(ns.metadata.name)), bindings.items.filter(inSpace(ns.metadata.name)), records.items.filter(inSpace(ns.metadata.name)),
      [...deployments.items, ...statefulsets.items].filter(inSpace(ns.metadata.name))))
    .sort((a, b) => a.name.localeCompare(b.name));
}

async function listAsMember(kube: KubeClient, only: string | undefined): Promise<SpaceSummary[]> {
  const user = await kube.whoAmI();
  const match = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(user);
  if (!match || match[1] !== MEMBERS_NAMESPACE) {
    throw new NhError('NH_KUBE_FORBIDDEN', `${user || 'these credentials'} may not list namespaces and are not an nh space member`, {
      hint: 'use a kubeconfig from `nh space kubeconfig`, or an admin one (`kubectl auth can-i list namespaces`)',
    });
  }
  const account = await kube.getObject(CORE.ServiceAccount, MEMBERS_NAMESPACE, match[2]!);
  const spaces = spacesOf(account).filter((s) => !only || s === only);
  const read = async (name: string): Promise<SpaceSummary | undefined> => {
    const ns = await kube.getObject(CORE.Namespace, undefined, name).catch(() => undefined);
    if (!ns) return undefined;
    const selector = { labelSelector: DEV_MODE_LABEL };
    const [quotas, records, deployments, statefulsets] = await Promise.all([
      kube.listObjects(CORE.ResourceQuota, name), kube.listObjects(CORE.ConfigMap, name, { labelSelector: 'nh.dev/record=app' }),
      kube.listObjects(CORE.Deployment, name, selector), kube.listObjects(CORE.StatefulSet, name, selector),
    ]);
    return summarize(ns, quotas.items, undefined, records.items, [...deployments.items, ...statefulsets.items]);
  };
  return (await Promise.all(spaces.map(read))).filter((s): s is SpaceSummary => s !== undefined);
}

function summarize(ns: KubeObject, quotas: readonly KubeObject[], bindings: readonly KubeObject[] | undefined, records: readonly KubeObject[], devWorkloads: readonly KubeObject[]): SpaceSummary {
  const quota = quotas.find((q) => q.metadata.name === QUOTA_NAME) ?? quotas[0];
  const status = (quota?.['status'] ?? {}) as { hard?: Record<string, string>; used?: Record<string, string> };
  let limits: SpaceLimits | undefined;
  try {
    limits = JSON.parse(ns.metadata.annotations?.[LIMITS_ANNOTATION] ?? 'null') as SpaceLimits | undefined ?? undefined;
  } catch {
    limits = undefined;
  }
  return {
    name: ns.metadata.name,
    owner: ns.metadata.labels?.[OWNER_LABEL] ?? '?',
    members: bindings?.map((b) => ({ id: b.metadata.labels?.[MEMBER_LABEL] ?? '?', role: (b.metadata.labels?.[ROLE_LABEL] ?? 'edit') as MemberRole })).sort((a, b) => a.id.localeCompare(b.id)),
    limits,
    quota: Object.fromEntries(Object.entries(status.hard ?? {}).map(([k, hard]) => [k, { hard, used: status.used?.[k] ?? '0' }])),
    apps: records.flatMap((r) => {
      const record = readRecord(r);
      return 'invalid' in record ? [] : [{ name: record.app, status: record.status, revision: record.revision }];
    }),
    devServices: devWorkloads.flatMap((w) => {
      const read = readDevState(w);
      return read.kind === 'present' ? [{ workload: `${w.kind ?? 'Deployment'}/${w.metadata.name}`, owner: read.state.owner, since: read.state.since }] : [];
    }),
  };
}
