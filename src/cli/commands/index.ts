/**
 * The command table: specs for parsing and help, and a lazy loader per command so that `nh validate`
 * never loads the Kubernetes client.
 */
import type { CommandSpec, FlagSpec, ParsedCommandLine } from '../args.js';
import type { CliContext } from '../context.js';

export type CommandRun = (ctx: CliContext, args: ParsedCommandLine) => Promise<number>;

export interface Command extends CommandSpec {
  readonly load: () => Promise<CommandRun>;
}

/** Where the app's manifests come from, overriding the config (nhctl's flags). */
const SOURCE_FLAGS: readonly FlagSpec[] = [
  { name: 'git-url', type: 'string', value: 'URL', description: 'repository of the manifests, chart or kustomization (*Git types; default application.gitUrl)' },
  { name: 'git-ref', type: 'string', value: 'REF', description: 'branch, tag or commit of --git-url (default application.gitRef, else HEAD)' },
  { name: 'helm-repo-url', type: 'string', value: 'URL', description: 'chart repository for helmRepo (default application.helmRepoUrl)' },
  { name: 'helm-chart-name', type: 'string', value: 'NAME', description: 'chart name for helmRepo (default application.helmChartName, else the app name)' },
];

/** Duplicate mode: a personal copy of each workload that Services send no traffic to (one per identity). */
const duplicateFlag = { name: 'duplicate', type: 'boolean', description: 'work on your own copy of each workload (no Service traffic; reached through forwards)' } as const;
const outputFlag = { name: 'output', short: 'o', type: 'string', value: 'text|json', description: 'output format (default text)' } as const;

export const COMMANDS: readonly Command[] = [
  {
    name: 'validate',
    summary: 'check config files; needs no cluster (pre-commit friendly)',
    usage: 'nh validate [FILE…] [-f FILE]… [--format text|json] [--strict]',
    description:
      'Checks .nocalhost/config.yaml files: YAML, structure, and semantics (duplicate services and local ports,\n' +
      'dependsOn cycles, globs, paths, quantities, ports). Each FILE is checked on its own; files given with -f are\n' +
      'checked together as one app. Exit 0 when valid (warnings are printed), 1 when invalid (with --strict also\n' +
      'when there are warnings), 2 on usage errors.',
    flags: [
      { name: 'format', type: 'string', value: 'text|json', description: 'output format (default text)' },
      { name: 'strict', type: 'boolean', description: 'warnings (unknown keys, fields nh does not use, …) fail too (exit 1)' },
    ],
    uses: { config: true, cluster: false },
    load: async () => (await import('./validate.js')).runValidate,
  },
  {
    name: 'plan',
    summary: 'show what `nh up` would change on the cluster, and why',
    usage: 'nh plan [SERVICE…] [-o text|json] [--detailed-exitcode]',
    flags: [
      duplicateFlag,
      outputFlag,
      { name: 'detailed-exitcode', type: 'boolean', description: 'exit 0 when nothing would change, 2 when something would, 1 on error' },
      { name: 'force', type: 'boolean', description: 'plan taking over services that another developer has in dev mode' },
      { name: 'no-install', type: 'boolean', description: "plan dev mode only, not the app's install or upgrade" },
      ...SOURCE_FLAGS,
    ],
    uses: { config: true, cluster: true },
    load: async () => (await import('./plan.js')).runPlan,
  },
  {
    name: 'up',
    summary: 'put services in dev mode, sync, run, forward ports and stream logs',
    usage: 'nh up [SERVICE…] [--detach] [--debug] [--duplicate] [--down-on-exit] [--no-install] [--timeout DURATION] [--force] [-o text|json] [--ui-port PORT] [--no-ui] [--no-standby]',
    description:
      'Installs the app when its config says how (application.manifestType) and it is absent, or upgrades it when\n' +
      'its rendered manifests changed; then puts the services in dev mode, then (unless --detach) stays in the foreground: syncs each service, runs its\n' +
      'command.run (command.debug with --debug) in the dev container, restarts it after each synced change when\n' +
      'hotReload is on, forwards its ports on 127.0.0.1 and prints its output prefixed with its name. A service starts\n' +
      "once the services it dependsOn accept connections on their first forwarded port (their debug port with\n" +
      '--debug). Ctrl-C stops the processes, forwards and sync; dev mode stays unless --down-on-exit.\n' +
      'The session is also a web page on 127.0.0.1 (its address, with a token, is printed first); -o json writes\n' +
      'the same events as NDJSON on stdout (see README, "Events").',
    flags: [
      duplicateFlag,
      { name: 'detach', type: 'boolean', description: 'enter dev mode and return (no sync, run or forwards)' },
      { name: 'debug', type: 'boolean', description: "run command.debug and forward each service's debug port" },
      { name: 'timeout', type: 'string', value: 'DURATION', description: 'how long to wait for dev pods to be ready (default 5m)' },
      { name: 'force', type: 'boolean', description: 'take over services that another developer has in dev mode' },
      { name: 'down-on-exit', type: 'boolean', description: 'restore the workloads when nh stops' },
      { name: 'no-install', type: 'boolean', description: 'only dev mode: do not install or upgrade the app' },
      { ...outputFlag, description: 'text (default) or json: the session as NDJSON events on stdout, one per line' },
      { name: 'ui-port', type: 'string', value: 'PORT', description: "the session's page on 127.0.0.1:PORT (default a free port)" },
      { name: 'no-ui', type: 'boolean', description: "do not serve the session's page" },
      { name: 'no-standby', type: 'boolean', description: 'do not keep the next process ready ahead of a reload (Node booted, anything else forked; one idle process per service)' },
      ...SOURCE_FLAGS,
    ],
    uses: { config: true, cluster: true },
    load: async () => (await import('./apply.js')).runUp,
  },
  {
    name: 'down',
    summary: 'restore services to what they were before dev mode',
    usage: 'nh down [SERVICE…] [--duplicate] [--uninstall] [--timeout DURATION] [--force]',
    flags: [
      duplicateFlag,
      { name: 'uninstall', type: 'boolean', description: 'also uninstall the app (its pre/post-delete hooks run)' },
      { name: 'timeout', type: 'string', value: 'DURATION', description: 'how long to wait for dev pods to go (default 5m)' },
      { name: 'force', type: 'boolean', description: 'restore services that another developer has in dev mode' },
    ],
    uses: { config: true, cluster: true },
    load: async () => (await import('./apply.js')).runDown,
  },
  {
    name: 'install',
    summary: "install the app from its config (manifests, kustomization or Helm chart), hooks and waits included",
    usage: 'nh install [--timeout DURATION] [--git-url URL] [--git-ref REF]',
    description:
      "Renders the app (application.manifestType, resourcePath), checks every resource with a server-side dry run,\n" +
      'then runs the pre-install hooks, applies the resources (server-side apply, field manager nh) in kind order,\n' +
      'holding each workload with a dependLabelSelector until what it waits for is ready, waits for the workloads,\n' +
      'runs the post-install hooks and records the app on the cluster (ConfigMap nh-app-NAME). `nh plan` shows it first.',
    flags: [{ name: 'timeout', type: 'string', value: 'DURATION', description: 'how long each hook and wait may take (default 5m)' }, ...SOURCE_FLAGS],
    uses: { config: true, cluster: true },
    load: async () => (await import('./apply.js')).runInstall,
  },
  {
    name: 'upgrade',
    summary: 'apply what changed in the rendered app; prune what it no longer renders',
    usage: 'nh upgrade [--timeout DURATION] [--git-url URL] [--git-ref REF]',
    flags: [{ name: 'timeout', type: 'string', value: 'DURATION', description: 'how long each hook and wait may take (default 5m)' }, ...SOURCE_FLAGS],
    uses: { config: true, cluster: true },
    load: async () => (await import('./apply.js')).runUpgrade,
  },
  {
    name: 'uninstall',
    summary: 'remove everything nh installed of the app (delete hooks run); never what it did not create',
    usage: 'nh uninstall [--timeout DURATION]',
    flags: [{ name: 'timeout', type: 'string', value: 'DURATION', description: 'how long each hook and deletion may take (default 5m)' }],
    uses: { config: true, cluster: true },
    load: async () => (await import('./apply.js')).runUninstall,
  },
  {
    name: 'space',
    summary: 'dev spaces for a team: a namespace with a quota, members and scoped kubeconfigs (no server)',
    usage: 'nh space create|kubeconfig|share|unshare|list|show|delete|reset [NAME] [options]',
    description:
      'nh space create NAME --owner ID [--cpu 4] [--memory 8Gi] [--pods 30] [--storage 20Gi] [--app CONFIG]\n' +
      '    a namespace marked as a space, its ResourceQuota and container defaults, Roles with what nh needs in it\n' +
      '    and nothing outside; --app installs the app into it (ready to develop in one command)\n' +
      'nh space kubeconfig NAME --member ID [--ttl 720h] [--out FILE]   a kubeconfig scoped to the space (bound,\n' +
      '    expiring token; file mode 0600); without --out it is printed, the only way nh shows a token\n' +
      'nh space share NAME --with ID [--role edit|view]   /   nh space unshare NAME --with ID\n' +
      'nh space list [-o json]   /   nh space show NAME   (a member sees the spaces shared with them)\n' +
      'nh space delete NAME [--yes]   removes the space and everything in it\n' +
      'nh space reset NAME [--app CONFIG]   every service leaves dev mode, the app is installed again\n' +
      'Spaces are labelled namespaces, members are RoleBindings and ServiceAccounts in nh-members: any admin\n' +
      'machine sees the same state.',
    flags: [
      { name: 'owner', type: 'string', value: 'ID', description: 'create: who owns the space (a ServiceAccount name)' },
      { name: 'member', type: 'string', value: 'ID', description: 'kubeconfig: whose kubeconfig' },
      { name: 'with', type: 'string', value: 'ID', description: 'share/unshare: the member' },
      { name: 'role', type: 'string', value: 'edit|view', description: 'share: edit (develop) or view (default edit)' },
      { name: 'cpu', type: 'string', value: 'CORES', description: 'create: CPU quota (requests and limits; default 4)' },
      { name: 'memory', type: 'string', value: 'SIZE', description: 'create: memory quota (default 8Gi)' },
      { name: 'pods', type: 'string', value: 'N', description: 'create: at most this many pods (default 30)' },
      { name: 'storage', type: 'string', value: 'SIZE', description: 'create: storage requests of claims (default 20Gi)' },
      { name: 'app', type: 'string', value: 'CONFIG', description: 'create/reset: install this app (a config file or the directory holding .nocalhost/)' },
      { name: 'ttl', type: 'string', value: 'DURATION', description: 'kubeconfig: token lifetime (default 720h; the server may shorten it)' },
      { name: 'out', type: 'string', value: 'FILE', description: 'kubeconfig: write it to FILE (mode 0600) instead of printing it' },
      { name: 'yes', type: 'boolean', description: 'delete: do not ask' },
      { name: 'timeout', type: 'string', value: 'DURATION', description: 'how long installs and deletions may take (default 5m)' },
      outputFlag,
    ],
    uses: { config: false, cluster: true },
    load: async () => (await import('./space.js')).runSpace,
  },
  {
    name: 'ui',
    summary: 'a read-only page of a namespace: who has which service in dev mode, since when (no session)',
    usage: 'nh ui [-n NS] [--ui-port PORT]',
    description:
      'Serves a page on 127.0.0.1 (its address, with a token, is printed) showing every workload of the namespace\n' +
      'in dev mode: the service, who entered dev mode and when, its dev pod and image, following the cluster as it\n' +
      'changes (a watch). It runs nothing and changes nothing; `nh up` serves the full page of a session.',
    flags: [{ name: 'ui-port', type: 'string', value: 'PORT', description: 'the page on 127.0.0.1:PORT (default a free port)' }],
    uses: { config: false, cluster: true },
    load: async () => (await import('./ui.js')).runUi,
  },
  {
    name: 'status',
    summary: 'dev mode, owner, pod and readiness of each service',
    usage: 'nh status [SERVICE…] [-o text|json]',
    flags: [duplicateFlag, outputFlag],
    uses: { config: true, cluster: true },
    load: async () => (await import('./status.js')).runStatus,
  },
  {
    name: 'sync',
    summary: "sync services' local source into their dev containers once, or keep watching",
    usage: 'nh sync [SERVICE…] [--watch] [--check] [--max-file-size SIZE] [-v]',
    description:
      "Sends each service's local files (sync.filePattern minus sync.ignoreFilePattern, .gitignore files in\n" +
      'gitIgnore mode, never .git or editor temp files) to its dev container: only what differs by hash, deleting\n' +
      'what is gone locally. --watch keeps syncing each change within milliseconds, across pod restarts; -v logs\n' +
      'each batch. --check lists differences without changing anything: exit 0 in sync, 1 when they differ.',
    flags: [
      duplicateFlag,
      { name: 'watch', type: 'boolean', description: 'keep syncing as files change' },
      { name: 'check', type: 'boolean', description: 'compare local and container trees by hash and list differences' },
      { name: 'max-file-size', type: 'string', value: 'SIZE', description: 'report files larger than this instead of sending them (default 1G)' },
    ],
    uses: { config: true, cluster: true },
    load: async () => (await import('./sync.js')).runSync,
  },
  {
    name: 'exec',
    summary: "open a shell (or run a command) in a service's dev container",
    usage: 'nh exec SERVICE [-- COMMAND…]',
    flags: [duplicateFlag],
    uses: { config: true, cluster: true },
    load: async () => (await import('./exec.js')).runExec,
  },
  {
    name: 'logs',
    summary: "print a service's dev container logs",
    usage: 'nh logs SERVICE [-f]',
    description: "Prints a service's dev container logs. Here -f is --follow, as in kubectl; name config files with --file.",
    flags: [duplicateFlag, { name: 'follow', short: 'f', type: 'boolean', description: 'keep following, across pod replacements' }],
    uses: { config: true, cluster: true },
    load: async () => (await import('./logs.js')).runLogs,
  },
];
