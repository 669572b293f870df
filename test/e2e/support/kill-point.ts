// Killing nh with SIGKILL at a known point of its work: an ApiGate holds back the requests that would take
// nh past the point, so the kill lands there on any machine, however fast or slow.
import assert from 'node:assert/strict';
import { ApiGate, type GateRequest, type GateRule } from './api-gate.js';
import { spawnNh } from './nh.js';

/**
 * A point at which nh is killed. The gate holds back the requests that would take nh past the point, so nh
 * waits there until killed: the kill cannot land in a later phase or after nh has exited.
 */
export interface KillPoint {
  readonly label: string;
  readonly rule: GateRule;
  /** True once nh is at the point, from the requests the gate has seen. */
  readonly reached: (requests: readonly GateRequest[]) => boolean;
  /** The cluster state the point is about, checked right before the kill. */
  readonly before?: () => Promise<void>;
}

/**
 * Starts `nh <args>` through a gate with the point's rule, kills it with SIGKILL once it is at the point, and
 * asserts that the kill is what ended it: death by SIGKILL, not an exit of its own (code 0 after finishing,
 * or an error) before the kill landed.
 */
export async function killAt(namespace: string, cwd: string, args: readonly string[], point: KillPoint): Promise<void> {
  const gate = await ApiGate.start(point.rule);
  const child = spawnNh(namespace, args, { cwd, kubeconfig: gate.kubeconfig });
  try {
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
    const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`)));
    const endedFirst = await Promise.race([gate.until(point.reached).then(() => undefined), exited]);
    assert.equal(endedFirst, undefined, `nh ${args.join(' ')} ended (${endedFirst}) before reaching the point ${point.label}\n${output}`);
    await point.before?.();
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL', `nh ${args.join(' ')} must die of the kill ${point.label}, not exit on its own\n${output}`);
  } finally {
    // An assertion above failed while nh still ran: it must not go on writing to the namespace.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await gate.close();
  }
}

