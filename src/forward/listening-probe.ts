/**
 * Whether the app listens on a port in its pod, read from the pod's own socket tables through an exec: unlike
 * a probe connection, this never touches the app (a connection the kubelet closes only a second or two later
 * would hold a gracefully stopping server). Images without `cat` get the tunnel probe instead.
 */
import type { ExecEndpoint } from '../kube/exec.js';
import { runToEnd } from '../kube/run-command.js';
import { listeningInodes } from './port-holder.js';
import { probeTunnel, type TunnelFailure, type TunnelTarget } from './tunnel.js';

export async function probeListening(endpoint: ExecEndpoint, target: TunnelTarget): Promise<TunnelFailure | undefined> {
  let output;
  try {
    // Every container of a pod shares its network namespace: the default container's view is the pod's.
    output = await runToEnd(endpoint, { namespace: target.namespace, pod: target.pod, container: undefined }, ['cat', '/proc/net/tcp', '/proc/net/tcp6']);
  } catch (error) {
    return { kind: 'tunnel', message: (error as Error).message };
  }
  if (!output.stdout.includes('local_address')) return probeTunnel(endpoint, target);
  return listeningInodes(output.stdout, target.port).length > 0 ? undefined : { kind: 'refused', message: 'nothing listens on the port in the pod' };
}
