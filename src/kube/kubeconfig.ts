/**
 * The kubeconfig: which server, as whom, in which namespace. Read here, as kubectl does, whenever the user's
 * credentials are static (client certificate, token, token file, basic auth, impersonation): importing
 * @kubernetes/client-node costs ~0.4 s (its generated API loads with KubeConfig), a third of a one-service
 * `nh up`. A user with an exec plugin or an auth-provider, or a cluster behind a proxy-url, is handed to
 * client-node's KubeConfig, which implements those.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { createSecureContext, type SecureContext } from 'node:tls';
import { delimiter, dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { NhError } from '../errors.js';
import { buildEmptyDefaultStore, explicitCAs, fallbackCAs } from './trust.js';

export interface KubeconfigOptions {
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Where requests go and how they authenticate; also what exec and port-forward channels need. */
export interface Connection {
  readonly server: string;
  readonly contextName: string;
  /** The context's namespace, when it names one. */
  readonly namespace: string | undefined;
  /** The cluster's CA, base64 (kubeconfig `certificate-authority-data`), for kubeconfigs nh writes for others. */
  readonly certificateAuthorityData: string | undefined;
  /** Fills in TLS material, headers and auth as client-node's KubeConfig.applyToHTTPSOptions does. */
  applyToHTTPSOptions(options: RequestOptions): Promise<void>;
}

type Entry = Record<string, unknown>;

/** The merged kubeconfig: for each name, the first file that defines it wins (kubectl's rule). */
interface Merged {
  readonly clusters: Map<string, Entry>;
  readonly users: Map<string, Entry>;
  readonly contexts: Map<string, Entry>;
  readonly currentContext: string | undefined;
}

/** The kubeconfig's entries for the context in use. */
interface Selected {
  readonly files: readonly string[];
  readonly contextName: string;
  readonly cluster: Entry & { readonly server: string };
  readonly user: Entry;
  readonly namespace: string | undefined;
}

function select(options: KubeconfigOptions): Selected {
  const files = kubeconfigFiles(options);
  const merged = mergeFiles(files);
  const contextName = options.context ?? merged.currentContext;
  if (options.context && !merged.contexts.has(options.context)) {
    const names = [...merged.contexts.keys()];
    throw new NhError('NH_KUBECONFIG', `no context \`${options.context}\` in the kubeconfig`, {
      hint: names.length ? `contexts: ${names.join(', ')}` : 'the kubeconfig defines no contexts',
    });
  }
  if (!contextName) throw new NhError('NH_KUBECONFIG', 'the kubeconfig has no current context', { hint: 'name one with --context' });
  const context = merged.contexts.get(contextName);
  const cluster = merged.clusters.get(text(context?.['cluster']));
  if (!context || !cluster || typeof cluster['server'] !== 'string') {
    throw new NhError('NH_KUBECONFIG', `the kubeconfig context \`${contextName}\` names no cluster`, { hint: 'pick another context with --context' });
  }
  const user = merged.users.get(text(context['user'])) ?? {};
  const namespace = typeof context['namespace'] === 'string' && context['namespace'] ? context['namespace'] : undefined;
  return { files, contextName, cluster: cluster as Selected['cluster'], user, namespace };
}

export async function connect(options: KubeconfigOptions): Promise<Connection> {
  const { files, contextName, cluster, user, namespace } = select(options);
  buildEmptyDefaultStore(options.env);
  const extraCAs = fallbackCAs(options.env);
  if ('exec' in user || 'auth-provider' in user || 'proxy-url' in cluster) return viaClientNode(files, options, namespace, extraCAs);
  // One TLS context for every connection of this run: building one parses the CA, certificate and key
  // (≈ 10–30 ms of CPU each), and a run opens dozens of connections (requests, execs, tunnels).
  let tls: SecureContext | undefined;
  return {
    server: cluster.server, contextName, namespace, certificateAuthorityData: fileOrData(cluster['certificate-authority'], cluster['certificate-authority-data'])?.toString('base64'),
    applyToHTTPSOptions: async (request) => {
      applyStatic(cluster, user, request);
      request.ca ??= extraCAs();
      tls ??= tlsContextOf(request);
      // tls.connect uses it instead of building a context from ca/cert/key (RequestOptions does not declare it).
      if (tls) (request as RequestOptions & { secureContext?: SecureContext }).secureContext = tls;
    },
  };
}

/**
 * Whether this kubeconfig makes nh open TLS connections it does not configure itself, which trust Node's
 * default CAs only: an auth-provider's token refresh (OIDC, inside client-node) or an https proxy-url. When
 * bin/nh moved NODE_EXTRA_CA_CERTS aside or had the default store emptied (kube/trust.ts), those would miss CAs,
 * so nh runs again with Node's defaults (cli/relaunch.ts). False for a kubeconfig that cannot be read: connect()
 * reports that.
 */
export function needsNodeDefaults(options: KubeconfigOptions): boolean {
  if (!options.env['NH_NODE_EXTRA_CA_CERTS'] && !explicitCAs(options.env)) return false;
  try {
    const { cluster, user } = select(options);
    return 'auth-provider' in user || /^https:/i.test(text(cluster['proxy-url']));
  } catch {
    return false;
  }
}

/** --kubeconfig, else $KUBECONFIG's files, else ~/.kube/config: those that exist, in that order. */
function kubeconfigFiles(options: KubeconfigOptions): string[] {
  const listed = options.kubeconfig ? [options.kubeconfig] : (options.env['KUBECONFIG'] ?? '').split(delimiter).filter(Boolean);
  const candidates = listed.length > 0 ? listed : [join(homedir(), '.kube', 'config')];
  const present = candidates.filter((f) => existsSync(f));
  if (present.length === 0) {
    // client-node would otherwise fall back to http://localhost:8080 without a word.
    throw new NhError('NH_KUBECONFIG', `no kubeconfig: ${candidates.join(', ')} ${candidates.length === 1 ? 'does' : 'do'} not exist`, {
      hint: 'name one with --kubeconfig PATH or the KUBECONFIG variable',
    });
  }
  return present;
}

/**
 * Each kubeconfig file's parsed document, for as long as its text stays the same: a cluster command reads the
 * kubeconfig twice when bin/nh changed Node's defaults (cli/relaunch.ts, then connect()), and parsing one with
 * its certificates takes ≈ 5–10 ms at a command's start. Never modified (mergeFiles copies what it keeps).
 */
const parsedFiles = new Map<string, { readonly text: string; readonly document: unknown }>();

function parseFile(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  const known = parsedFiles.get(file);
  if (known?.text === text) return known.document;
  const document: unknown = parse(text);
  parsedFiles.set(file, { text, document });
  return document;
}

function mergeFiles(files: readonly string[]): Merged {
  const merged = { clusters: new Map<string, Entry>(), users: new Map<string, Entry>(), contexts: new Map<string, Entry>() };
  let currentContext: string | undefined;
  for (const file of files) {
    let document: unknown;
    try {
      document = parseFile(file);
    } catch (error) {
      throw new NhError('NH_KUBECONFIG', `cannot read the kubeconfig ${file}: ${(error as Error).message.split('\n')[0]}`, {
        hint: 'check the file with `kubectl config view`', cause: error,
      });
    }
    const config = isEntry(document) ? document : {};
    const base = dirname(resolve(file));
    for (const [list, key, into] of [['clusters', 'cluster', merged.clusters], ['users', 'user', merged.users], ['contexts', 'context', merged.contexts]] as const) {
      for (const item of Array.isArray(config[list]) ? (config[list] as unknown[]) : []) {
        if (!isEntry(item) || typeof item['name'] !== 'string' || into.has(item['name'])) continue;
        into.set(item['name'], withAbsolutePaths(isEntry(item[key]) ? item[key] : {}, base));
      }
    }
    currentContext ??= typeof config['current-context'] === 'string' && config['current-context'] ? config['current-context'] : undefined;
  }
  return { ...merged, currentContext };
}

/** File references in a kubeconfig are relative to the file that holds them. */
function withAbsolutePaths(entry: Entry, base: string): Entry {
  const copy = { ...entry };
  for (const key of ['certificate-authority', 'client-certificate', 'client-key', 'token-file']) {
    if (typeof copy[key] === 'string' && copy[key]) copy[key] = resolve(base, copy[key]);
  }
  return copy;
}

/**
 * The cluster's CA and the user's client certificate and key as one TLS context; undefined when they do not
 * parse (each connection then builds its own from ca/cert/key and fails with TLS's own error, as before).
 */
function tlsContextOf(options: RequestOptions): SecureContext | undefined {
  try {
    return createSecureContext({ ca: options.ca, cert: options.cert, key: options.key });
  } catch {
    return undefined;
  }
}

function applyStatic(cluster: Entry, user: Entry, options: RequestOptions): void {
  if (cluster['insecure-skip-tls-verify'] === true) options.rejectUnauthorized = false;
  if (typeof cluster['tls-server-name'] === 'string') options.servername = cluster['tls-server-name'];
  const ca = fileOrData(cluster['certificate-authority'], cluster['certificate-authority-data']);
  if (ca) options.ca = ca;
  const cert = fileOrData(user['client-certificate'], user['client-certificate-data']);
  if (cert) options.cert = cert;
  const key = fileOrData(user['client-key'], user['client-key-data']);
  if (key) options.key = key;
  const headers: Record<string, string | string[]> = { ...(options.headers as Record<string, string | string[]> | undefined) };
  // Read on every call: a projected or rotated token file changes under a running nh.
  const token = typeof user['token'] === 'string' && user['token'] ? user['token'] : typeof user['token-file'] === 'string' ? readFileSync(user['token-file'], 'utf8').trim() : '';
  if (token) headers['Authorization'] = `Bearer ${token}`;
  if (typeof user['as'] === 'string') headers['Impersonate-User'] = user['as'];
  if (Array.isArray(user['as-groups'])) headers['Impersonate-Group'] = user['as-groups'].map(String);
  if (typeof user['as-uid'] === 'string') headers['Impersonate-Uid'] = user['as-uid'];
  options.headers = headers;
  if (typeof user['username'] === 'string') options.auth = `${user['username']}:${text(user['password'])}`;
}

function fileOrData(file: unknown, data: unknown): Buffer | undefined {
  if (typeof file === 'string' && file) return readFileSync(file);
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
  return undefined;
}

/** Exec plugins, auth-providers and proxies: client-node's KubeConfig, loaded only then. */
async function viaClientNode(files: readonly string[], options: KubeconfigOptions, namespace: string | undefined, extraCAs: () => string[] | undefined): Promise<Connection> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(files[0]!);
    for (const extra of files.slice(1)) {
      const other = new KubeConfig();
      other.loadFromFile(extra);
      kc.mergeConfig(other, true);
    }
  } catch (error) {
    throw new NhError('NH_KUBECONFIG', `cannot read the kubeconfig ${files.join(', ')}: ${(error as Error).message.split('\n')[0]}`, {
      hint: 'check the file with `kubectl config view`', cause: error,
    });
  }
  if (options.context) kc.setCurrentContext(options.context);
  const cluster = kc.getCurrentCluster();
  const ca = cluster?.caData ?? (cluster?.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined);
  return {
    server: cluster?.server ?? '', contextName: kc.getCurrentContext(), namespace, certificateAuthorityData: ca,
    applyToHTTPSOptions: async (request) => {
      // Before client-node's own: it builds its agent (a proxy's too) from the request's ca.
      if (!ca) request.ca ??= extraCAs();
      await kc.applyToHTTPSOptions(request);
    },
  };
}

/** A string field, or '' when it is absent or not a string. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function isEntry(value: unknown): value is Entry {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
