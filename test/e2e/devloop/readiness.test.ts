// dependsOn with a readinessCommand on the real cluster: the dependent service starts only after the
// dependency's command exits 0 in its dev container, not when the dependency's process merely runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubectl, useNamespace, waitFor } from '../support/cluster.js';
import { idleDeployment, projectWith, spawnNh } from '../support/nh.js';

const namespace = useNamespace('devloop-ready');

// db becomes ready 3 s after its process starts (the marker file); app depends on db.
const CONFIG = `- name: db
  containers:
    - dev:
        image: localhost/nh-dev-min:1
        workDir: /work
        command: {run: [sh, -c, "echo db starting; sleep 3; touch /tmp/ready; echo db ready; while :; do sleep 1; done"]}
        readinessCommand: [test, -f, /tmp/ready]
- name: app
  dependsOn: [db]
  containers:
    - dev:
        image: localhost/nh-dev-min:1
        workDir: /work
        command: {run: [sh, -c, "echo app started; while :; do sleep 1; done"]}
`;

test('a dependent service starts after the dependency readinessCommand succeeds', async () => {
  kubectl(['-n', namespace(), 'apply', '-f', '-'], { input: idleDeployment('db') + '---\n' + idleDeployment('app') });
  const project = projectWith(CONFIG);
  const nh = spawnNh(namespace(), ['up'], { cwd: project });
  let out = '';
  nh.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  nh.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  try {
    await waitFor('app to start', () => out.includes('app │ app started') || out.includes('app started'), 180_000, 100);
    const lines = out.split('\n');
    const ready = lines.findIndex((l) => l.includes('db ready'));
    const started = lines.findIndex((l) => l.includes('app started'));
    assert.ok(ready >= 0 && ready < started, `app started before db was ready:\n${out}`);
  } finally {
    nh.kill('SIGINT');
    await new Promise((resolve) => nh.once('close', resolve));
  }
});
