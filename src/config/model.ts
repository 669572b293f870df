/**
 * The normalized, typed model of an app's dev config: what every later layer reads. Every default is
 * applied (see DEFAULTS in normalize.ts), every path is absolute, every port is a number.
 */
import type { SourcePosition } from './problems.js';

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'CronJob' | 'Pod' | 'CustomResource';

export interface AppConfig {
  /** `application.name`, else the directory holding `.nocalhost/`: tells this app's dev workloads from others'. */
  readonly name: string;
  readonly services: readonly ServiceConfig[];
  /** The config files this model was read from. */
  readonly files: readonly string[];
  /** How the app itself is installed (`application.manifestType`); undefined: nh only puts services in dev mode. */
  readonly install: InstallConfig | undefined;
}

export type ManifestType = 'rawManifest' | 'rawManifestLocal' | 'rawManifestGit' | 'kustomizeLocal' | 'kustomizeGit' | 'helmLocal' | 'helmGit' | 'helmRepo';
export type HookPhase = 'preInstall' | 'postInstall' | 'preUpgrade' | 'postUpgrade' | 'preDelete' | 'postDelete';

/** A value of the config with where it was written, so errors found later (a missing path) point at it. */
export interface Located<T> {
  readonly value: T;
  readonly at: SourcePosition;
}

export interface InstallConfig {
  readonly manifestType: ManifestType;
  readonly at: SourcePosition;
  /** The directory holding `.nocalhost/`: the source root of the local types. */
  readonly root: string;
  /** For `*Git` types (and rawManifest with a gitUrl); the CLI's --git-url/--git-ref win. */
  readonly git: { readonly url: string; readonly ref: string | undefined } | undefined;
  /** Relative to the source root, as written. */
  readonly resourcePaths: readonly Located<string>[];
  readonly ignoredPaths: readonly Located<string>[];
  /** Per phase, in run order: weight, then declaration order. */
  readonly hooks: Readonly<Record<HookPhase, readonly Located<string>[]>>;
  readonly helm: HelmSettings;
  /** `application.env` after `application.envFrom`: added to every container the app installs. */
  readonly env: readonly EnvVar[];
}

export interface HelmSettings {
  /** `helmValues` with a scalar value, as `--set key=value`. */
  readonly set: readonly { readonly key: string; readonly value: string }[];
  /** `helmValues` with a mapping or list value, as `--set-json key=JSON`. */
  readonly setJson: readonly { readonly key: string; readonly value: string }[];
  /** `helmVals`, as a values file. */
  readonly values: Readonly<Record<string, unknown>> | undefined;
  readonly version: string | undefined;
  readonly repoUrl: string | undefined;
  readonly chartName: string | undefined;
}

export interface ServiceConfig {
  readonly name: string;
  readonly workload: WorkloadRef;
  /** (nh) services whose processes must accept connections before this one starts. */
  readonly dependsOn: readonly string[];
  readonly containers: readonly ContainerConfig[];
  /** The config file that defines it, and the directory holding its `.nocalhost/` (relative paths start here). */
  readonly source: { readonly file: string; readonly root: string };
  /** What the app install does for this service's workload. */
  readonly install: ServiceInstall;
}

export interface ServiceInstall {
  /** `containers[].install.env` after its envFrom; name undefined = the workload's only container. */
  readonly containers: readonly { readonly name: string | undefined; readonly env: readonly EnvVar[]; readonly portForwards: readonly PortForward[] }[];
  /** `dependLabelSelector`: the workload is applied only once these are ready. */
  readonly waitFor: DependencyWaits;
}

export interface DependencyWaits {
  readonly pods: readonly string[];
  readonly jobs: readonly string[];
  readonly tcp: readonly string[];
  readonly http: readonly string[];
}

export interface WorkloadRef {
  readonly kind: WorkloadKind;
  readonly name: string;
  /** For a custom resource: `resource.version.group` as written. */
  readonly resource?: string;
}

export interface ContainerConfig {
  /** Container name in the pod template; undefined = the pod's only (or first) container. */
  readonly name: string | undefined;
  readonly dev: DevConfig;
}

export interface DevConfig {
  readonly image: string | undefined;
  readonly imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never' | undefined;
  readonly shell: string | undefined;
  readonly workDir: string;
  readonly storageClass: string | undefined;
  readonly resources: Resources | undefined;
  readonly persistentVolumeDirs: readonly PersistentVolumeDir[];
  readonly command: Commands;
  readonly debug: DebugSettings | undefined;
  /** (nh) exits 0 once the service is ready for those that depend on it; undefined = its port decides. */
  readonly readinessCommand: readonly string[] | undefined;
  readonly hotReload: boolean;
  readonly sync: SyncSettings;
  /** `env` after `envFrom` files, later entries winning. */
  readonly env: readonly EnvVar[];
  readonly portForwards: readonly PortForward[];
  /** Applied by the API server to the dev workload after nh's own change, in order. */
  readonly patches: readonly DevPatch[];
}

export interface DevPatch {
  readonly type: 'json' | 'merge' | 'strategic';
  /** The patch document (its shape checked by config/patches.ts). */
  readonly body: unknown;
  /** Where the config writes it, `file:line:col`, for a patch the API server rejects. */
  readonly at: string;
}

export interface Resources {
  readonly limits?: Quantities;
  readonly requests?: Quantities;
}

export interface Quantities {
  readonly cpu?: string;
  readonly memory?: string;
}

export interface PersistentVolumeDir {
  readonly path: string;
  readonly capacity: string;
}

export interface Commands {
  readonly run: readonly string[] | undefined;
  readonly debug: readonly string[] | undefined;
  /** Run before each start of run/debug; the old process keeps serving until it succeeds. */
  readonly build: readonly string[] | undefined;
  /** Used instead of run / debug when hotReload is on. */
  readonly hotReloadRun: readonly string[] | undefined;
  readonly hotReloadDebug: readonly string[] | undefined;
}

export type DebugLanguage = 'node' | 'go' | 'java' | 'python' | 'php' | 'ruby';

export interface DebugSettings {
  readonly remotePort: number;
  readonly language: DebugLanguage | undefined;
}

export interface SyncSettings {
  /** nh syncs one way; `sendReceive` configs are read as send. */
  readonly type: 'send';
  readonly mode: 'pattern' | 'gitIgnore';
  /** Absolute local directory synced into workDir. */
  readonly localRoot: string;
  readonly filePatterns: readonly string[];
  readonly ignorePatterns: readonly string[];
}

export interface EnvVar {
  readonly name: string;
  readonly value: string;
}

export interface PortForward {
  readonly local: number;
  readonly remote: number;
}
