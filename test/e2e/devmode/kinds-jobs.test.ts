// Jobs and CronJobs in dev mode: a dev copy from the pod template that stays up. The Job is left alone (its
// own pod keeps running); the CronJob is suspended while in dev mode and its suspend restored exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubectl, useNamespace } from '../support/cluster.js';
import { comparable, getObject } from '../support/nh.js';
import { crashThenRestore, CRONJOB, JOB, kindProject, upSyncDown, type KindCase } from './kinds-support.js';

const ns = useNamespace('kinds-jobs');

const jobPodUids = () => kubectl(['-n', ns(), 'get', 'pods', '-l', 'job-name=report', '-o', 'jsonpath={.items[*].metadata.uid}']).stdout.trim();

test('Job: the dev copy runs the dev image with the synced source; the Job and its pod are left alone; down leaves no trace', { timeout: 300_000 }, async () => {
  kubectl(['-n', ns(), 'apply', '-f', '-'], { input: JOB });
  kubectl(['-n', ns(), 'wait', '--for=condition=Ready', 'pod', '-l', 'job-name=report', '--timeout=120s']);
  const uids = jobPodUids();
  const job: KindCase = {
    serviceType: 'job', name: 'report', namespace: ns,
    snapshot: () => comparable(getObject(ns(), 'job', 'report')),
    inDevMode: async () => assert.equal(jobPodUids(), uids, 'the Job\'s own pod still runs, untouched'),
  };
  const project = kindProject(job);
  await upSyncDown(job, project);
  await crashThenRestore(job, project);
  assert.equal(jobPodUids(), uids);
});

test('CronJob: suspended while in dev mode, suspend restored exactly (absent, then false)', { timeout: 300_000 }, async () => {
  kubectl(['-n', ns(), 'apply', '-f', '-'], { input: CRONJOB });
  const cron: KindCase = {
    serviceType: 'cronjob', name: 'nightly', namespace: ns,
    snapshot: () => comparable(getObject(ns(), 'cronjob', 'nightly')),
    inDevMode: async () => assert.equal((getObject(ns(), 'cronjob', 'nightly') as { spec: { suspend?: boolean } }).spec.suspend, true, 'suspended'),
  };
  const project = kindProject(cron);
  await upSyncDown(cron, project);
  kubectl(['-n', ns(), 'patch', 'cronjob', 'nightly', '--type=merge', '-p', '{"spec":{"suspend":false}}']);
  await crashThenRestore(cron, project);
});
