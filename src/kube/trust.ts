/**
 * Which CAs nh's connections to a cluster trust, and keeping Node from building a root store nh never uses.
 *
 * Node 20 builds its bundled root store (≈ 140 certificates parsed: ≈ 25 ms of CPU on a small VM, a tenth of
 * a one-service `nh up --detach`) the first time any TLS context is given a CA, although that context then
 * trusts the given CA only (nodejs/node#56301). So bin/nh starts Node with --use-openssl-ca, which makes that
 * store OpenSSL's default one, and sets NH_EXPLICIT_CAS=1 (bin/nh.js drops it when Node lacks the flag): nh
 * builds that store empty before its first context, and names every CA it trusts itself: the kubeconfig's, or
 * for a cluster without one Node's bundled CAs and NODE_EXTRA_CA_CERTS's, as Node would have trusted. A TLS
 * connection nh does not configure itself would then trust nothing and fail, never the reverse; the kubeconfigs
 * that make those (an auth-provider, an https proxy) run nh again with Node's defaults (cli/relaunch.ts).
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates } from 'node:tls';

type Env = Readonly<Record<string, string | undefined>>;

/** Where OpenSSL looks for its default store: set, while nh builds that store, to a path that holds no certificate. */
const OPENSSL_PATHS = ['SSL_CERT_FILE', 'SSL_CERT_DIR', 'SSL_CERT_URI'] as const;

let defaultStoreBuilt = false;

/** Whether this process runs with bin/nh's default store, which nh builds empty and never relies on. */
export function explicitCAs(env: Env): boolean {
  return env['NH_EXPLICIT_CAS'] === '1';
}

/**
 * Builds OpenSSL's default store, empty, once per process, before a context given a CA would build it from the
 * user's files (the system bundle: slower than Node's own). OpenSSL reads the paths from the process's
 * environment when it builds the store, so they are set there for this one synchronous call only.
 */
export function buildEmptyDefaultStore(env: Env): void {
  if (defaultStoreBuilt || !explicitCAs(env)) return;
  defaultStoreBuilt = true;
  const saved = OPENSSL_PATHS.map((name) => [name, process.env[name]] as const);
  for (const name of OPENSSL_PATHS) process.env[name] = '/dev/null';
  try {
    createSecureContext();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/**
 * The CAs that a cluster without one of its own in the kubeconfig is checked against, read once, on first use.
 * Undefined when Node's defaults are what they were at its start (nothing moved aside, store not emptied): Node
 * applies them. Otherwise Node's bundled CAs, plus the file NODE_EXTRA_CA_CERTS named if bin/nh moved it to
 * NH_NODE_EXTRA_CA_CERTS (so that Node does not parse it at every start) and it can be read (Node itself only
 * warns when it cannot).
 */
export function fallbackCAs(env: Env): () => string[] | undefined {
  const file = env['NH_NODE_EXTRA_CA_CERTS'];
  let cas: string[] | undefined;
  let read = !file && !explicitCAs(env);
  return () => {
    if (read) return cas;
    read = true;
    cas = [...rootCertificates];
    if (file) {
      try {
        cas.push(readFileSync(file, 'latin1'));
      } catch {
        // unreadable: Node's own CAs only, as Node would have done after its warning
      }
    }
    return cas;
  };
}
