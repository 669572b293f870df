/* Generated from schema/ by `npm run schema`. Do not edit: edit schema/ and rebuild. */

/**
 * Environment variables added to the container.
 */
export type EnvList = {
  /**
   * Variable name.
   */
  name: string;
  /**
   * Variable value.
   */
  value?: string | number | boolean;
}[];
/**
 * Ports forwarded from 127.0.0.1 to the dev pod, as "local:remote" or one port for both.
 */
export type PortForwardList = (string | number)[];
/**
 * Hook Jobs, run in `weight` order (declaration order breaks ties), each awaited; a failed Job stops the install and its logs are shown.
 */
export type HookList = {
  /**
   * Manifest of the Job, relative to the source root.
   */
  path?: string;
  /**
   * Order, lowest first.
   */
  weight?: string | number;
}[];
/**
 * Environment variables added to the container.
 */
export type EnvList1 = {
  /**
   * Variable name.
   */
  name: string;
  /**
   * Variable value.
   */
  value?: string | number | boolean;
}[];
/**
 * v2: containers[].dev.command.build
 */
export type CommandLine = string[];
/**
 * v2: containers[].dev.command.run
 */
export type CommandLine1 = string[];
/**
 * v2: containers[].dev.command.debug
 */
export type CommandLine2 = string[];
/**
 * v2: containers[].dev.command.hotReloadRun
 */
export type CommandLine3 = string[];
/**
 * v2: containers[].dev.command.hotReloadDebug
 */
export type CommandLine4 = string[];
/**
 * Ports forwarded from 127.0.0.1 to the dev pod, as "local:remote" or one port for both.
 */
export type PortForwardList1 = (string | number)[];
/**
 * Hook Jobs, run in `weight` order (declaration order breaks ties), each awaited; a failed Job stops the install and its logs are shown.
 */
export type HookList1 = {
  /**
   * Manifest of the Job, relative to the source root.
   */
  path?: string;
  /**
   * Order, lowest first.
   */
  weight?: string | number;
}[];

export interface ConfigForms {
  service?: ServiceConfig;
  appConfig?: AppConfig;
  serviceV1?: ServiceConfigV1;
  appConfigV1?: AppConfigV1;
}
/**
 * One service of the app; `name` and `serviceType` name the Kubernetes workload it develops.
 */
export interface ServiceConfig {
  /**
   * Name of the workload (Deployment, StatefulSet, …) in the namespace; a Kubernetes object name (lower-case letters, digits, `-` and `.`, at most 253).
   */
  name: string;
  /**
   * Kind of the workload, lower case. `deployment` and `statefulset` are switched in place; `job`, `cronjob`, `daemonset` and `pod` (a bare Pod, no owner) get a dev copy, a Deployment nh creates from their pod template (the CronJob suspended, the DaemonSet kept off the dev pod's one node, the bare Pod replaced), all undone by `nh down`. CRD types (`resource.version.group`) are accepted and reported as not supported yet. Default `deployment`.
   */
  serviceType?:
    | (
        | 'deployment'
        | 'statefulset'
        | 'daemonset'
        | 'job'
        | 'cronjob'
        | 'pod'
        | 'Deployment'
        | 'StatefulSet'
        | 'DaemonSet'
        | 'Job'
        | 'CronJob'
        | 'Pod'
      )
    | string;
  /**
   * (nh) Services whose processes must accept connections before this service's command starts in `nh up`. Names of other services in this config.
   */
  dependsOn?: string[];
  /**
   * Priority class name (accepted; Nocalhost never applied it either).
   */
  priorityClass?: string;
  dependLabelSelector?: DependLabelSelector;
  /**
   * Per-container settings. A service with one container may leave out the container's name.
   */
  containers?: ContainerConfig[];
}
/**
 * What this service's workload waits for when nh installs the app: it is applied only once the pods are Ready, the Jobs complete and the addresses answer (no webhook or init container). A wait that never ends fails at `--timeout`.
 */
export interface DependLabelSelector {
  /**
   * Label selectors of pods that must be Ready first.
   */
  pods?: string[];
  /**
   * Label selectors of Jobs that must complete first.
   */
  jobs?: string[];
  /**
   * host:port addresses (a Service of the namespace and its port) that must accept TCP connections first.
   */
  tcp?: string[];
  /**
   * http://SERVICE:PORT/PATH URLs (a Service of the namespace) that must answer 2xx first.
   */
  http?: string[];
}
/**
 * Settings for one container of the workload.
 */
export interface ContainerConfig {
  /**
   * Name of the container in the pod template (lower-case letters, digits and `-`, at most 63). May be left out when the pod has one container.
   */
  name?: string;
  /**
   * Nocalhost config-hub matching (accepted; nh has no config hub).
   */
  hub?: {
    /**
     * Image substring that selected a hub template.
     */
    image?: string;
  };
  /**
   * Install-time settings of this container: env added to it when nh installs the app (after the app-level env, winning over it), and ports `nh up` forwards from 127.0.0.1 to its pod.
   */
  install?: {
    env?: EnvList;
    envFrom?: EnvFrom;
    portForward?: PortForwardList;
  };
  dev?: ContainerDevConfig;
}
/**
 * Environment variables read from files; `env` wins over them.
 */
export interface EnvFrom {
  /**
   * Env files (KEY=VALUE lines), relative to the directory holding `.nocalhost/`.
   */
  envFile?: {
    /**
     * Path of the env file.
     */
    path: string;
  }[];
}
/**
 * How the container runs in dev mode.
 */
export interface ContainerDevConfig {
  /**
   * Dev image (one with the toolchain). It replaces the container's image in dev mode.
   */
  image?: string;
  /**
   * Pull policy of the dev container in dev mode; default the container's own (`nh down` restores it).
   */
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /**
   * Repository the IDE clones when no local directory is associated (accepted; nh syncs the local tree).
   */
  gitUrl?: string;
  /**
   * Shell `nh exec` opens in the dev container; when the image lacks it (or it is unset), bash, then sh.
   */
  shell?: string;
  /**
   * Absolute path in the container where the source is synced and commands run. Default /home/nocalhost-dev.
   */
  workDir?: string;
  /**
   * Storage class of the claims nh creates for `persistentVolumeDirs`; default the cluster's default class.
   */
  storageClass?: string;
  /**
   * Nocalhost renamed the dev container to this (accepted; nh keeps the container's own name).
   */
  devContainerName?: string;
  resources?: ResourceRequirements;
  /**
   * Directories of the dev container kept on PersistentVolumeClaims across pod restarts.
   */
  persistentVolumeDirs?: PersistentVolumeDir[];
  command?: DevCommands;
  debug?: DebugConfig;
  /**
   * (nh) A command run in the dev container (in workDir) that exits 0 once the service is ready. Services that `dependsOn` this one start after it succeeds. Default: the remote port of the first portForward accepts connections in the pod (the debug port under `nh up --debug`).
   */
  readinessCommand?: string[];
  /**
   * Restart the run (or debug) command after every synced change.
   */
  hotReload?: boolean;
  /**
   * Reserved by Nocalhost, never implemented (accepted).
   */
  useDevContainer?: boolean;
  sync?: SyncConfig;
  env?: EnvList;
  envFrom?: EnvFrom;
  portForward?: PortForwardList;
  /**
   * Image of Nocalhost's sync sidecar (accepted; nh needs no sidecar).
   */
  sidecarImage?: string;
  /**
   * Patches applied to the dev workload after nh's own change, in order, by the API server (as `kubectl patch` does; a strategic merge follows the kind's patch strategy, e.g. containers merged by name). In-place workloads get them, and a dev copy or duplicate gets them instead of its source. `nh plan` lists what each may change; the original value of every such field is kept in the dev state, so `nh down` restores it exactly. A patch the server rejects stops that service and restores it.
   */
  patches?: {
    /**
     * `json` (RFC 6902 operations), `merge` (RFC 7386) or `strategic` (Kubernetes strategic merge); default strategic, as kubectl.
     */
    type?: 'json' | 'merge' | 'strategic';
    /**
     * The patch, as JSON or YAML text (a list of operations for `json`, a mapping otherwise). It may not change nh's own marks, the object's name, namespace or kind.
     */
    patch: string;
  }[];
}
/**
 * CPU and memory of the dev container; replaces the container's own resources when set.
 */
export interface ResourceRequirements {
  limits?: ResourceList;
  requests?: ResourceList;
}
/**
 * Kubernetes quantities.
 */
export interface ResourceList {
  /**
   * CPU quantity, e.g. 500m or 2.
   */
  cpu?: string | number;
  /**
   * Memory quantity, e.g. 512Mi or 2Gi.
   */
  memory?: string | number;
}
/**
 * A directory of the dev container backed by a PersistentVolumeClaim.
 */
export interface PersistentVolumeDir {
  /**
   * Absolute path in the container.
   */
  path: string;
  /**
   * Size of the claim; default 10Gi.
   */
  capacity?: string | number;
  /**
   * Nocalhost skipped its wait for the claim to bind (storage classes with WaitForFirstConsumer) (accepted; nh never waits for it).
   */
  waitForFirstConsumer?: boolean;
}
/**
 * Commands run in the dev container's workDir, each as a list of words (the command and its arguments).
 */
export interface DevCommands {
  /**
   * Starts the service (`nh up`).
   */
  run?: string[];
  /**
   * Starts the service under a debugger (`nh up --debug`).
   */
  debug?: string[];
  /**
   * Builds the service, in workDir, before each start of `run` or `debug` (and before each hot-reload restart); the previous process keeps serving until it succeeds, and a failure is shown with file:line mapped to your local files. Without it, a `go run` command is built this way by itself.
   */
  build?: string[];
  /**
   * Used instead of `run` when `hotReload` is true (restarted after each synced change).
   */
  hotReloadRun?: string[];
  /**
   * Used instead of `debug` under `nh up --debug` when `hotReload` is true.
   */
  hotReloadDebug?: string[];
}
/**
 * Remote debugging of the service.
 */
export interface DebugConfig {
  /**
   * Port the debugger listens on in the container; forwarded to the same local port.
   */
  remoteDebugPort?: number;
  /**
   * Language of the debugger, for the IDE attach configuration.
   */
  language?: 'node' | 'go' | 'java' | 'python' | 'php' | 'ruby';
}
/**
 * What of the local source is synced into `workDir`.
 */
export interface SyncConfig {
  /**
   * Direction. `send` (local → container) is what nh does; Nocalhost's spellings `sendonly`, `sendOnly` are the same. `sendReceive` (two-way) is accepted and synced one-way.
   */
  type?: 'send' | 'sendonly' | 'sendOnly' | 'sendReceive' | 'sendreceive' | 'sendreceived';
  /**
   * `pattern` (default) uses filePattern/ignoreFilePattern; `gitIgnore` also honours every .gitignore.
   */
  mode?: 'pattern' | 'gitIgnore' | 'gitignore';
  /**
   * Nocalhost kept local files deleted in the container (accepted; nh syncs one way, so local files are never deleted).
   */
  deleteProtection?: boolean;
  /**
   * Globs of files to sync (whitelist), relative to the local root. Default everything.
   */
  filePattern?: string[];
  /**
   * Globs of files never synced; they win over filePattern.
   */
  ignoreFilePattern?: string[];
  /**
   * (nh) Local directory synced into workDir, relative to the directory holding `.nocalhost/`. Default that directory.
   */
  localPath?: string;
}
/**
 * The application form of the config (Nocalhost v2).
 */
export interface AppConfig {
  configProperties?: ConfigProperties;
  application?: ApplicationConfig;
}
/**
 * Properties of the config file itself.
 */
export interface ConfigProperties {
  /**
   * Config version; `v2` for this schema (without it Nocalhost read the file as v1).
   */
  version?: 'v1' | 'v2';
  /**
   * File of KEY=VALUE lines for ${VAR} templating, relative to the config file. The environment wins over it.
   */
  envFile?: string;
}
/**
 * The application and its services.
 */
export interface ApplicationConfig {
  /**
   * Application name (lower-case letters, digits and `-`, at most 63, as Nocalhost required). nh records it on every workload it puts in dev mode, so that `nh up` of the whole app takes out of dev mode only the services removed from this app's config, never those of another app in the namespace. Default: the name of the directory holding `.nocalhost/`.
   */
  name?: string;
  /**
   * How `nh up` / `nh install` installs the app: raw manifests (`rawManifest`, `rawManifestLocal`, `rawManifestGit`), a kustomization (`kustomizeLocal`, `kustomizeGit`) or a Helm chart (`helmLocal`, `helmGit`, `helmRepo`). `*Git` types read `gitUrl` (or `--git-url`); the others read the directory holding `.nocalhost/`. Without it nh does not install the app and only puts its services in dev mode.
   */
  manifestType?:
    | 'helmGit'
    | 'helmRepo'
    | 'helmLocal'
    | 'rawManifest'
    | 'rawManifestGit'
    | 'rawManifestLocal'
    | 'kustomizeGit'
    | 'kustomizeLocal';
  /**
   * Manifest files or directories (every *.yaml, *.yml and *.json below them, in name order), the kustomization directory, or the chart directory; relative to the source root (the directory holding `.nocalhost/`, or the clone of `gitUrl`).
   */
  resourcePath?: string[];
  /**
   * Manifest files or directories under `resourcePath` that are not applied.
   */
  ignoredPath?: string[];
  /**
   * (nh) Repository holding the manifests, chart or kustomization for the `*Git` types (nhctl took it as `--git-url`, which nh also accepts). Cloned into a cache outside the repo; `file://` URLs and local paths work.
   */
  gitUrl?: string;
  /**
   * (nh) Branch, tag or commit of `gitUrl` to install from (`--git-ref`). Default the remote's HEAD.
   */
  gitRef?: string;
  /**
   * (nh) Chart repository URL for `helmRepo` (nhctl took it as `--helm-repo-url`, which nh also accepts).
   */
  helmRepoUrl?: string;
  /**
   * (nh) Chart name in `helmRepoUrl` for `helmRepo`. Default the application name, as in nhctl.
   */
  helmChartName?: string;
  onPreInstall?: HookList;
  onPostInstall?: HookList;
  onPreUpgrade?: HookList;
  onPostUpgrade?: HookList;
  onPreDelete?: HookList;
  onPostDelete?: HookList;
  /**
   * --set style Helm overrides; they win over `helmVals` and the chart's values.
   */
  helmValues?: {
    /**
     * Value path.
     */
    key?: string;
    /**
     * Value; a mapping or list is passed whole (`--set-json`).
     */
    value?: string | number | boolean | {} | unknown[];
  }[];
  /**
   * Helm values (a mapping), as in a values file; they win over the chart's own values.
   */
  helmVals?: {
    [k: string]: unknown;
  };
  /**
   * Chart version (helm's `--version`), on install and on upgrade.
   */
  helmVersion?: string;
  env?: EnvList1;
  envFrom?: EnvFrom1;
  /**
   * The services of the application.
   */
  services?: ServiceConfig[];
}
/**
 * Environment variables read from files; `env` wins over them.
 */
export interface EnvFrom1 {
  /**
   * Env files (KEY=VALUE lines), relative to the directory holding `.nocalhost/`.
   */
  envFile?: {
    /**
     * Path of the env file.
     */
    path: string;
  }[];
}
/**
 * Nocalhost's old (v1) flat service form. nh reads it and converts it to v2 with a warning; not offered for completion.
 */
export interface ServiceConfigV1 {
  /**
   * Workload name.
   */
  name: string;
  /**
   * Workload kind.
   */
  serviceType?: string;
  /**
   * v2: containers[].dev.gitUrl
   */
  gitUrl?: string;
  /**
   * v2: containers[].dev.image
   */
  devContainerImage?: string;
  /**
   * v2: containers[].dev.workDir
   */
  workDir?: string;
  /**
   * Local dirs passed to dev start -s (v2: none; nh syncs the config directory or sync.localPath)
   */
  syncDirs?: string[];
  /**
   * v2: priorityClass
   */
  priorityClass?: string;
  /**
   * v2: containers[].dev.persistentVolumeDirs
   */
  persistentVolumeDirs?: PersistentVolumeDir[];
  buildCommand?: CommandLine;
  runCommand?: CommandLine1;
  debugCommand?: CommandLine2;
  hotReloadRunCommand?: CommandLine3;
  hotReloadDebugCommand?: CommandLine4;
  /**
   * v2: containers[].dev.shell
   */
  devContainerShell?: string;
  devContainerResources?: ResourceRequirements1;
  devPorts?: PortForwardList1;
  /**
   * v2: dependLabelSelector.jobs
   */
  dependJobsLabelSelector?: string[];
  /**
   * v2: dependLabelSelector.pods
   */
  dependPodsLabelSelector?: string[];
  /**
   * v2: containers[].dev.sync.filePattern
   */
  syncFilePattern?: string[];
  /**
   * v2: containers[].dev.sync.ignoreFilePattern
   */
  ignoreFilePattern?: string[];
}
/**
 * CPU and memory of the dev container; replaces the container's own resources when set.
 */
export interface ResourceRequirements1 {
  limits?: ResourceList;
  requests?: ResourceList;
}
/**
 * Nocalhost's old (v1) application form; nh converts it to v2 with a warning.
 */
export interface AppConfigV1 {
  /**
   * v2: application.name
   */
  name?: string;
  /**
   * v2: application.manifestType
   */
  manifestType?: string;
  /**
   * v2: application.resourcePath
   */
  resourcePath?: string[];
  /**
   * v2: application.ignoredPath
   */
  ignoredPath?: string[];
  onPreInstall?: HookList1;
  /**
   * v2: application.services
   */
  services?: ServiceConfigV1[];
}
