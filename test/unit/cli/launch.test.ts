// The launcher: runs a CommonJS bundle's main with a V8 code cache per bundle build and command. Each run is a
// process of its own, as nh's are: within one process V8 reuses the script it compiled and never reads a cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cacheOf } from '../../../src/cli/launch.js';

/** A bundle whose main imports a built-in through the launcher and returns a code made of what it saw. */
const BUNDLE = `"use strict";
module.exports.main = async (argv) => {
  const { sep } = await nhImport("node:path");
  return argv.length * 10 + (sep === "/" ? 1 : 2) + (typeof __filename === "string" ? 100 : 0);
};
`;

function setUp(): { dir: string; bundle: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'nh-launch-'));
  const bundle = join(dir, 'main.js');
  writeFileSync(bundle, BUNDLE);
  return { dir, bundle, env: { XDG_CACHE_HOME: join(dir, 'cache') } };
}

/** launch() in a new Node process; its exit code. */
function launch(bundle: string, argv: readonly string[], env: Record<string, string>): number | null {
  const launcher = new URL('../../../src/cli/launch.js', import.meta.url).href;
  const script = `import { launch } from ${JSON.stringify(launcher)}; process.exitCode = await launch(new URL(${JSON.stringify(pathToFileURL(bundle).href)}), process.argv.slice(1), process.env);`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script, '--', ...argv], { env: { ...process.env, ...env } }).status;
}

const cacheFiles = (dir: string) => readdirSync(join(dir, 'cache', 'nh', 'v8')).sort();

test('runs the bundle, then writes one cache per command that later runs use as they are', () => {
  const { dir, bundle, env } = setUp();
  try {
    assert.equal(launch(bundle, ['status', '-o', 'json'], env), 131);
    const [file] = cacheFiles(dir);
    assert.match(file!, /^\d+-\d+-status\.bin$/);
    const written = statSync(join(dir, 'cache', 'nh', 'v8', file!));
    assert.equal(written.mode & 0o777, 0o600);
    assert.equal(launch(bundle, ['status'], env), 111);
    assert.equal(statSync(join(dir, 'cache', 'nh', 'v8', file!)).mtimeMs, written.mtimeMs, 'an accepted cache is not written again');
    assert.equal(launch(bundle, ['--version'], env), 111);
    assert.deepEqual(cacheFiles(dir).map((f) => f.replace(/^\d+-\d+-/, '')), ['nh.bin', 'status.bin']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a cache V8 rejects is replaced; a rebuilt bundle keeps the caches of the last few builds only', () => {
  const { dir, bundle, env } = setUp();
  try {
    launch(bundle, ['plan'], env);
    const [file] = cacheFiles(dir);
    const path = join(dir, 'cache', 'nh', 'v8', file!);
    writeFileSync(path, Buffer.from('not bytecode'));
    assert.equal(launch(bundle, ['plan'], env), 111);
    assert.notEqual(readFileSync(path).toString(), 'not bytecode');
    for (let rebuild = 1; rebuild <= 5; rebuild++) {
      writeFileSync(bundle, `${BUNDLE}${'//'.repeat(rebuild)}\n`);
      launch(bundle, ['plan'], env);
    }
    assert.equal(cacheFiles(dir).length, 4, 'the newest four builds');
    assert.ok(!cacheFiles(dir).includes(file!));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a cache directory others may write to is not used', () => {
  const { dir, bundle, env } = setUp();
  try {
    const shared = join(dir, 'cache', 'nh', 'v8');
    mkdirSync(shared, { recursive: true });
    chmodSync(shared, 0o777);
    assert.equal(cacheOf(bundle, ['up'], env), undefined);
    chmodSync(shared, 0o700);
    assert.notEqual(cacheOf(bundle, ['up'], env), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
