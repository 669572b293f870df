/** The marks dev mode leaves on the cluster; everything nh needs to resume or restore lives under them. */
export const DEV_MODE_LABEL = 'nh.dev/mode';
export const DEV_MODE_VALUE = 'dev';
/** On the workload: JSON of DevState (plan/dev-state.ts). */
export const DEV_STATE_ANNOTATION = 'nh.dev/state';
/** On a held HorizontalPodAutoscaler: JSON of its original min/max replicas. */
export const HPA_ORIGINAL_ANNOTATION = 'nh.dev/hpa-original';
/** Pod volumes nh adds are all named with this prefix, so restoring removes exactly those. */
export const VOLUME_PREFIX = 'nh-';
export const WORKDIR_VOLUME = 'nh-workdir';
/** On PVCs nh creates for persistentVolumeDirs. */
export const SERVICE_LABEL = 'nh.dev/service';
/**
 * On a workload nh holds while a dev copy runs (a suspended CronJob, a DaemonSet kept off one node): JSON of
 * HeldState (plan/held.ts), the original value of every field the hold changed.
 */
export const HELD_ANNOTATION = 'nh.dev/held';
/** On a dev copy (a Deployment nh creates) and its pods: a short hash naming the copy, its selector. */
export const COPY_LABEL = 'nh.dev/copy';
/** On a dev copy standing in for its source: `Kind/name` of the source, to release it when the copy goes. */
export const COPY_OF_ANNOTATION = 'nh.dev/copy-of';
