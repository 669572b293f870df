/**
 * The normalized, typed model of an app's dev config: what every later layer reads. Every default is
 * applied (see DEFAULTS in normalize.ts), every path is absolute, every port is a number.
 */
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'CronJob' | 'Pod' | 'CustomResource';

export interface AppConfig {
  /** `application.name`, else the directory holding `.nocalhost/`: tells this app's dev workloads from others'. */
  readonly name: string;
  readonly services: readonly ServiceConfig[];
  /** The config files this model was read from. */
  readonly files: readonly string[];
}

export interface ServiceConfig {
  readonly name: string;
  readonly workload: WorkloadRef;
  /** (nh) services whose processes must accept connections before this one starts. */
  readonly dependsOn: readonly string[];
  readonly containers: readonly ContainerConfig[];
  /** The config file that defines it, and the directory holding its `.nocalhost/` (relative paths start here). */
  readonly source: { readonly file: string; readonly root: string };
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
  readonly waitForFirstConsumer: boolean;
}

export interface Commands {
  readonly run: readonly string[] | undefined;
  readonly debug: readonly string[] | undefined;
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
