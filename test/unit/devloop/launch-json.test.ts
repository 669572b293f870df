import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blankComments, launchConfigFor, mergeLaunchJson, type DebugTarget } from '../../../src/devloop/launch-json.js';

const api: DebugTarget = { service: 'api', language: 'node', localPort: 9230, localDir: 'api', remoteDir: '/app' };
const inventory: DebugTarget = { service: 'inventory', language: 'go', localPort: 2345, localDir: 'inventory', remoteDir: '/src' };

test('each language gets its attach configuration with local↔remote paths', () => {
  assert.deepEqual(launchConfigFor(api), {
    name: 'nh: attach api', type: 'node', request: 'attach', address: '127.0.0.1', port: 9230,
    localRoot: '${workspaceFolder}/api', remoteRoot: '/app', restart: true, skipFiles: ['<node_internals>/**'],
  });
  assert.deepEqual(launchConfigFor(inventory)?.['substitutePath'], [{ from: '${workspaceFolder}/inventory', to: '/src' }]);
  assert.equal(launchConfigFor(inventory)?.['mode'], 'remote');
  assert.deepEqual(launchConfigFor({ ...api, language: 'python' })?.['pathMappings'], [{ localRoot: '${workspaceFolder}/api', remoteRoot: '/app' }]);
  assert.equal(launchConfigFor({ ...api, language: 'java' })?.['type'], 'java');
  assert.equal(launchConfigFor({ ...api, language: 'ruby' }), undefined);
  assert.equal(launchConfigFor({ ...api, localDir: '' })?.['localRoot'], '${workspaceFolder}');
});

test('no launch.json yet: a new file with the configurations', () => {
  const result = mergeLaunchJson(undefined, [launchConfigFor(api)!]);
  assert.deepEqual(result.added, ['nh: attach api']);
  assert.equal((JSON.parse(result.text) as { configurations: unknown[] }).configurations.length, 1);
});

test('an existing file with comments and trailing commas keeps every byte and gains the new entry', () => {
  const existing = `{
  // my own
  "version": "0.2.0",
  "configurations": [
    /* launch the tests */
    { "name": "tests", "type": "node", "request": "launch", },
  ],
}
`;
  const result = mergeLaunchJson(existing, [launchConfigFor(api)!]);
  assert.deepEqual(result.added, ['nh: attach api']);
  assert.ok(result.text.includes('// my own') && result.text.includes('/* launch the tests */'));
  assert.ok(result.text.includes('{ "name": "tests", "type": "node", "request": "launch", },'));
  const parsed = JSON.parse(blankComments(result.text).replace(/,(\s*[}\]])/g, '$1')) as { configurations: { name: string }[] };
  assert.deepEqual(parsed.configurations.map((c) => c.name), ['nh: attach api', 'tests']);
});

test('a configuration of the same name is left as the user made it', () => {
  const existing = JSON.stringify({ version: '0.2.0', configurations: [{ name: 'nh: attach api', type: 'node', request: 'attach', port: 1 }] }, null, 2);
  const result = mergeLaunchJson(existing, [launchConfigFor(api)!, launchConfigFor(inventory)!]);
  assert.deepEqual(result.kept, ['nh: attach api']);
  assert.deepEqual(result.added, ['nh: attach inventory']);
  const parsed = JSON.parse(result.text) as { configurations: { name: string; port: number }[] };
  assert.equal(parsed.configurations.find((c) => c.name === 'nh: attach api')?.port, 1);
  assert.equal(mergeLaunchJson(existing, [launchConfigFor(api)!]).text, existing);
});

test('empty configurations, and a file without the key', () => {
  const empty = mergeLaunchJson('{\n  "version": "0.2.0",\n  "configurations": []\n}\n', [launchConfigFor(api)!]);
  assert.equal((JSON.parse(empty.text) as { configurations: unknown[] }).configurations.length, 1);
  const none = mergeLaunchJson('{ "version": "0.2.0" }', [launchConfigFor(api)!]);
  assert.deepEqual((JSON.parse(none.text) as { configurations: { name: string }[]; version: string }).version, '0.2.0');
});

test('a launch.json that is not JSON is refused, never overwritten', () => {
  assert.throws(() => mergeLaunchJson('{ "configurations": [ oops ] }', [launchConfigFor(api)!]), (e: Error & { code?: string }) => e.code === 'NH_LAUNCH_JSON_INVALID');
});

test('comment blanking keeps positions and leaves strings alone', () => {
  const text = '{"a": "http://x", // c\n "b": /* d */ 1}';
  const blanked = blankComments(text);
  assert.equal(blanked.length, text.length);
  assert.deepEqual(JSON.parse(blanked), { a: 'http://x', b: 1 });
});
