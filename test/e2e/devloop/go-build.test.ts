// A Go service (`go run .`) under `nh up` on the real cluster: nh builds the new binary while the old process
// serves, so a build that fails leaves the old code serving and shows the compiler's error at the local file;
// a burst of saves ends with the last version served after at most two restarts. Times are waited for,
// never asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubectl, useNamespace, waitFor } from '../support/cluster.js';
import { freePort, idleDeployment, projectWith, servedBody as body, spawnNh } from '../support/nh.js';

const namespace = useNamespace('floor-go');

function main(version: string, broken = false): string {
  return `package main

import (
	"fmt"
	"net/http"
)

const version = "${version}"

func main() {
	${broken ? 'undefinedThing()\n\t' : ''}fmt.Println("listening " + version)
	_ = http.ListenAndServe(":8080", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, version) }))
}
`;
}

/** Succeeds once the hand-off helper is built (its name has no suffix: `.off`, or a build's `.PID`). */
const HELPER_BUILT = 'for f in /tmp/.nh-handoff-*; do case "${f#/tmp/.nh-handoff-}" in *.*) ;; *) [ -x "$f" ] && exit 0;; esac; done; exit 1';

/** The program the service's binary (nh's `go run` build) runs under: its parent's executable. */
const RUNNING_UNDER = `for d in /proc/[0-9]*; do
  [ "$(readlink "$d/exe")" = /tmp/.nh-bin-inventory ] || continue
  while read -r k v; do [ "$k" = PPid: ] && readlink "/proc/$v/exe"; done < "$d/status"
done`;

test('go run: a failing build keeps the old code serving and names the local file; a burst of 20 saves ends with the last, in ≤ 2 restarts', async () => {
  kubectl(['-n', namespace(), 'apply', '-f', '-'], { input: idleDeployment('inventory') });
  const port = await freePort();
  const project = projectWith(`configProperties: {version: v2}
application:
  services:
    - name: inventory
      serviceType: deployment
      containers:
        - name: app
          dev:
            image: localhost/nh-dev-go:1.26
            imagePullPolicy: IfNotPresent
            workDir: /src
            command: {run: [go, run, .]}
            hotReload: true
            sync: {type: send, localPath: ./app}
            portForward: ["${port}:8080"]
`);
  const app = join(project, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'go.mod'), 'module example.com/inventory\n\ngo 1.26\n');
  writeFileSync(join(app, 'main.go'), main('v0'));
  const nh = spawnNh(namespace(), ['up'], { cwd: project });
  let out = '';
  nh.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  nh.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  try {
    await waitFor('v0 served', async () => (await body(port)) === 'v0', 300_000, 250);

    // A compile error: reported at the local file, and v0 still answers.
    let mark = out.length;
    writeFileSync(join(app, 'main.go'), main('v1', true));
    await waitFor('the build failure', () => out.slice(mark).includes('the build failed'), 180_000, 100);
    await waitFor('the compiler\'s line', () => out.slice(mark).includes(`${join(app, 'main.go')}:11:2: undefined: undefinedThing`), 10_000, 100);
    for (let i = 0; i < 3; i++) assert.equal(await body(port), 'v0', `the old code serves:\n${out.slice(mark)}`);
    assert.doesNotMatch(out.slice(mark), /listening v1/);

    // The hand-off helper, built in the container in the background after the first start.
    const pod = kubectl(['-n', namespace(), 'get', 'pods', '-l', 'app=inventory,nh.dev/mode', '-o', 'jsonpath={.items[0].metadata.name}']).stdout;
    await waitFor('the hand-off helper built in the pod', () => kubectl(['-n', namespace(), 'exec', pod, '-c', 'app', '--', 'sh', '-c', HELPER_BUILT], { allowFailure: true }).code === 0, 180_000, 1_000);

    // 20 saves within a second: the last one is served, after no more than two restarts.
    mark = out.length;
    for (let i = 1; i <= 20; i++) {
      writeFileSync(join(app, 'main.go'), main(`burst-${i}`));
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitFor('the last save served', async () => (await body(port)) === 'burst-20', 180_000, 100);
    await new Promise((r) => setTimeout(r, 2_000));
    const starts = out.slice(mark).match(/listening burst-\d+/g) ?? [];
    assert.ok(starts.length >= 1 && starts.length <= 2, `at most two restarts, saw ${starts.length}:\n${out.slice(mark)}`);
    assert.equal(starts.at(-1), 'listening burst-20');
    assert.equal(await body(port), 'burst-20');

    // The last restart handed off: the binary runs under the helper.
    const parent = kubectl(['-n', namespace(), 'exec', pod, '-c', 'app', '--', 'sh', '-c', RUNNING_UNDER]).stdout;
    assert.match(parent, /^\/tmp\/\.nh-handoff-[0-9a-f]+$/m, `the binary's parent: ${parent}`);
  } finally {
    nh.kill('SIGINT');
    await new Promise((resolve) => nh.once('close', resolve));
  }
});
