/**
 * The narrow port every layer uses to reach the cluster. One implementation talks to the API server
 * (node-client.ts); tests may pass their own. Objects are raw JSON (model/kube-object.ts).
 */
import type { JsonPatchOp, KubeObject, ResourceKind, WatchEvent } from '../model/kube-object.js';

export interface ListOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

export interface DeleteOptions {
  readonly uid?: string;
}

export interface KubeList {
  readonly items: readonly KubeObject[];
  readonly resourceVersion: string;
}

export interface WatchOptions extends ListOptions {
  readonly resourceVersion: string;
  /** Server-side end of the watch; client-node 1.4 has no working client timeout of its own. */
  readonly timeoutSeconds: number;
}

export interface LogOptions {
  readonly container: string;
  readonly tailLines: number;
  /** The previous (crashed) instance of the container. */
  readonly previous: boolean;
}

/** Where any kind lives in the API, from discovery: for the app's rendered resources. */
export interface ApiResource {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

export interface ApplyOptions {
  /** The server validates, defaults and merges, and persists nothing. */
  readonly dryRun: boolean;
}

export interface KubeClient {
  /** The namespace commands work in: -n, else the context's, else `default`. */
  readonly namespace: string;
  /** The context in use, for messages. */
  readonly contextName: string;
  /** The object, or undefined when it does not exist. */
  get(kind: ResourceKind, namespace: string, name: string): Promise<KubeObject | undefined>;
  list(kind: ResourceKind, namespace: string, options?: ListOptions): Promise<KubeList>;
  create(kind: ResourceKind, namespace: string, body: KubeObject): Promise<KubeObject>;
  /** A JSON patch (RFC 6902); send a `replace /metadata/resourceVersion` op to make it conditional. */
  patch(kind: ResourceKind, namespace: string, name: string, ops: readonly JsonPatchOp[]): Promise<KubeObject>;
  /** A patch document the API server merges itself (a strategic merge follows the kind's patch strategy). */
  patchDocument(kind: ResourceKind, namespace: string, name: string, type: 'json' | 'merge' | 'strategic', body: unknown): Promise<KubeObject>;
  /** Absent is fine; with a uid, only that object (409 when the name now holds another one). */
  delete(kind: ResourceKind, namespace: string, name: string, options?: DeleteOptions): Promise<void>;
  /** Calls onEvent per event until the server ends the watch, the signal aborts, or onEvent returns true. */
  watch(kind: ResourceKind, namespace: string, options: WatchOptions, onEvent: (event: WatchEvent) => boolean, signal: AbortSignal): Promise<void>;
  logs(namespace: string, pod: string, options: LogOptions): Promise<string>;
  /** Discovery (cached per group/version); undefined when the cluster does not serve that kind. */
  resourceFor(apiVersion: string, kind: string): Promise<ApiResource | undefined>;
  /** The object of any kind; undefined when it does not exist. namespace undefined = cluster-scoped. */
  getObject(resource: ApiResource, namespace: string | undefined, name: string): Promise<KubeObject | undefined>;
  /** Server-side apply as field manager `nh`, taking over fields others changed (the plan showed them first). */
  applyObject(resource: ApiResource, namespace: string | undefined, body: KubeObject, options: ApplyOptions): Promise<KubeObject>;
  /** Deletes with foreground propagation (dependents first); absent is fine. */
  deleteObject(resource: ApiResource, namespace: string | undefined, name: string): Promise<void>;
  /** Objects of any kind in a namespace, or in every namespace (undefined) for a cluster-wide read. */
  listObjects(resource: ApiResource, namespace: string | undefined, options?: ListOptions): Promise<KubeList>;
  /** A bound, expiring token for a ServiceAccount (TokenRequest); the server may shorten the lifetime. */
  requestToken(namespace: string, serviceAccount: string, seconds: number): Promise<{ readonly token: string; readonly expires: string }>;
  /** Who the credentials are (SelfSubjectReview): the user name, e.g. `system:serviceaccount:ns:name`. */
  whoAmI(): Promise<string>;
  /** The server address and CA of the kubeconfig in use, for kubeconfigs handed to others. */
  readonly server: { readonly url: string; readonly certificateAuthorityData: string | undefined };
  /** Frees keep-alive connections so the process can exit. */
  close(): void;
}

interface ResourceInfo {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

/** Where each kind lives in the API; also names resources in RBAC hints (`deployments.apps`). */
export const RESOURCES: Readonly<Record<ResourceKind, ResourceInfo>> = {
  Deployment: { group: 'apps', version: 'v1', plural: 'deployments' },
  StatefulSet: { group: 'apps', version: 'v1', plural: 'statefulsets' },
  DaemonSet: { group: 'apps', version: 'v1', plural: 'daemonsets' },
  Job: { group: 'batch', version: 'v1', plural: 'jobs' },
  CronJob: { group: 'batch', version: 'v1', plural: 'cronjobs' },
  Pod: { group: '', version: 'v1', plural: 'pods' },
  HorizontalPodAutoscaler: { group: 'autoscaling', version: 'v2', plural: 'horizontalpodautoscalers' },
  PersistentVolumeClaim: { group: '', version: 'v1', plural: 'persistentvolumeclaims' },
  Event: { group: '', version: 'v1', plural: 'events' },
};

/** `deployments.apps`, `pods`: the resource as `kubectl auth can-i` spells it. */
export function resourceName(kind: ResourceKind): string {
  const { group, plural } = RESOURCES[kind];
  return group ? `${plural}.${group}` : plural;
}

/** `deployments.apps`, `configmaps`: a discovered resource as `kubectl auth can-i` spells it. */
export function apiResourceName(resource: ApiResource): string {
  return resource.group ? `${resource.plural}.${resource.group}` : resource.plural;
}

/** Kinds nh writes by their fixed place in the API (no discovery needed). */
export const CORE = {
  Namespace: { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  ConfigMap: { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  Service: { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  ServiceAccount: { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true },
  ResourceQuota: { group: '', version: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true },
  LimitRange: { group: '', version: 'v1', kind: 'LimitRange', plural: 'limitranges', namespaced: true },
  Job: { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', namespaced: true },
  Role: { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', plural: 'roles', namespaced: true },
  RoleBinding: { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true },
  Deployment: { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  StatefulSet: { group: 'apps', version: 'v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true },
} as const satisfies Record<string, ApiResource>;

export function apiResourcePath(resource: ApiResource, namespace: string | undefined, name?: string): string {
  const base = resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
  // A namespaced kind without a namespace: every namespace (a cluster-wide list).
  const scope = resource.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${scope}/${resource.plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

export function resourcePath(kind: ResourceKind, namespace: string, name?: string): string {
  const { group, version, plural } = RESOURCES[kind];
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}
