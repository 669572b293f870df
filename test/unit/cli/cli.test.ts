// The CLI as a user meets it: the real bin in a child process, exit codes and output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../support/paths.js';

const bin = join(repoRoot, 'bin/nh.js');

/** Runs bin/nh.js; an env value of undefined removes that variable (NO_COLOR is set unless told otherwise). */
function nh(args: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('the example app validates, from the repo root and from inside the app', () => {
  const byFile = nh(['validate', '-f', 'examples/booking/.nocalhost/config.yaml']);
  assert.equal(byFile.code, 0, byFile.stdout + byFile.stderr);
  assert.match(byFile.stdout, /valid, 3 services/);
  const found = nh(['validate'], { cwd: join(repoRoot, 'examples/booking/api') });
  assert.equal(found.code, 0, found.stdout + found.stderr);
});

test('an invalid config exits 1 with file:line:col, message and hint', () => {
  const r = nh(['validate', 'test/fixtures/invalid/bad-pull-policy.yaml']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^test\/fixtures\/invalid\/bad-pull-policy\.yaml:6:24: error: `imagePullPolicy` must be one of Always, IfNotPresent, Never, not `always`\n {2}hint: did you mean `Always`\?/m);
  assert.doesNotMatch(r.stdout + r.stderr, /\bat .*\.js:\d+/, 'no stack trace');
});

test('several files per call (pre-commit): each is checked on its own, all are reported', () => {
  const r = nh(['validate', 'examples/booking/.nocalhost/config.yaml', 'test/fixtures/invalid/relative-workdir.yaml', 'test/fixtures/invalid/bad-port-range.yaml']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /✓ examples\/booking\/\.nocalhost\/config\.yaml: valid/);
  assert.match(r.stdout, /relative-workdir\.yaml:6:16: error/);
  assert.match(r.stdout, /bad-port-range\.yaml:6:21: error/);
});

test('--format json gives machine-readable problems', () => {
  const r = nh(['validate', '--format', 'json', 'test/fixtures/invalid/dependency-cycle.yaml']);
  assert.equal(r.code, 1);
  const json = JSON.parse(r.stdout) as { valid: boolean; apps: Array<{ problems: Array<{ line: number; col: number; code: string; message: string }> }> };
  assert.equal(json.valid, false);
  assert.deepEqual(json.apps[0]!.problems.map((p) => [p.code, p.line, p.col]), [['dependency-cycle', 2, 15]]);
  assert.match(json.apps[0]!.problems[0]!.message, /web → api → inventory → web/);
});

test('every file of the invalid corpus exits 1 with its expected position', () => {
  const expected = JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/invalid/expected.json'), 'utf8')) as Record<string, { line: number; col: number; code: string }>;
  const files = Object.keys(expected);
  const r = nh(['validate', '--format', 'json', ...files], { cwd: join(repoRoot, 'test/fixtures/invalid') });
  assert.equal(r.code, 1);
  const apps = (JSON.parse(r.stdout) as { apps: Array<{ valid: boolean; problems: Array<{ severity: string; line: number; col: number; code: string }> }> }).apps;
  files.forEach((file, i) => {
    const first = apps[i]!.problems.find((p) => p.severity === 'error');
    assert.equal(apps[i]!.valid, false, file);
    assert.deepEqual([first?.code, first?.line, first?.col], [expected[file]!.code, expected[file]!.line, expected[file]!.col], file);
  });
});

test('a 5 MB file is refused at 1:1 without parsing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nh-cli-'));
  try {
    const big = join(dir, 'config.yaml');
    writeFileSync(big, `name: x\n# ${'x'.repeat(5 * 1024 * 1024)}\n`);
    const r = nh(['validate', big]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /config\.yaml:1:1: error: the file is 5\.2 MB; a config is at most 1 MiB/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('empty values Nocalhost wrote are valid; the info notes about them show under -v and in JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nh-cli-'));
  try {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'name: web\ncontainers:\n  - dev:\n      workDir: ""\n      resources:\n');
    const quiet = nh(['validate', file]);
    assert.equal(quiet.code, 0, quiet.stdout);
    assert.doesNotMatch(quiet.stdout, /info/);
    const verbose = nh(['validate', '-v', file]);
    assert.match(verbose.stdout, /config\.yaml:4:7: info: `containers\[0\]\.dev\.workDir` is empty \(""\): read as not set, as Nocalhost did\n/);
    assert.match(verbose.stdout, /config\.yaml:5:7: info: `containers\[0\]\.dev\.resources` is empty \(null\)/);
    const json = JSON.parse(nh(['validate', '--format', 'json', file]).stdout) as { apps: Array<{ valid: boolean; problems: Array<{ severity: string; line: number }> }> };
    assert.deepEqual(json.apps[0]!.problems.map((p) => [p.severity, p.line]), [['info', 3], ['info', 4], ['info', 5]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--strict fails on warnings (pre-commit), infos still pass; without it warnings pass', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nh-cli-'));
  try {
    const warned = join(dir, 'warned.yaml');
    writeFileSync(warned, 'name: web\ncontainers:\n  - dev:\n      imag: node:20\n');
    const clean = join(dir, 'clean.yaml');
    writeFileSync(clean, 'name: web\ncontainers:\n  - dev:\n      workDir: ""\n');
    assert.equal(nh(['validate', warned]).code, 0);
    const strict = nh(['validate', '--strict', warned, clean]);
    assert.equal(strict.code, 1, strict.stdout);
    assert.match(strict.stdout, /warned\.yaml:4:7: warning: unknown key `imag`/);
    assert.match(strict.stdout, /✖ .*warned\.yaml: 1 warning \(--strict\)/);
    assert.match(strict.stdout, /✓ .*clean\.yaml: valid/);
    assert.equal(nh(['validate', '--strict', clean]).code, 0);
    const json = JSON.parse(nh(['validate', '--strict', '--format', 'json', warned]).stdout) as { valid: boolean; strict: boolean; apps: Array<{ valid: boolean }> };
    assert.deepEqual([json.valid, json.strict, json.apps[0]!.valid], [false, true, false]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage errors exit 2', () => {
  assert.equal(nh(['validate', '--format', 'xml']).code, 2);
  assert.equal(nh(['validate', '--bogus']).code, 2);
  const unknown = nh(['deploy']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command `deploy`/);
  assert.equal(nh([]).code, 2);
});

test('no config anywhere is a clear error, not a crash', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nh-cli-'));
  try {
    const r = nh(['validate'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no \.nocalhost\/config\.yaml in .* or any directory above it\n {2}hint: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a config is found from a subdirectory upward, as git finds .git', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nh-cli-'));
  try {
    mkdirSync(join(dir, '.nocalhost'));
    mkdirSync(join(dir, 'src', 'deep'), { recursive: true });
    writeFileSync(join(dir, '.nocalhost', 'config.yaml'), 'name: web\n');
    const r = nh(['validate'], { cwd: join(dir, 'src', 'deep') });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every command has real help', () => {
  for (const command of ['validate', 'plan', 'up', 'down', 'status', 'exec', 'logs', 'sync']) {
    const r = nh([command, '--help']);
    assert.equal(r.code, 0, command);
    assert.match(r.stdout, new RegExp(`^Usage: nh ${command}`), command);
    if (command !== 'validate') assert.match(r.stdout, /--kubeconfig PATH[\s\S]*--context NAME[\s\S]*-n, --namespace NS/, command);
    assert.match(r.stdout, /-v, --verbose/, command);
  }
  assert.match(nh(['--help']).stdout, /Commands:/);
  assert.match(nh(['--version']).stdout, /^\d+\.\d+\.\d+\n$/);
});

const ESCAPE = '\u001b[';
const invalid = ['validate', 'test/fixtures/invalid/empty.yaml'];

test('colour: on with FORCE_COLOR; NO_COLOR, --no-color, TERM=dumb or output that is not a terminal turn it off', () => {
  const colourable = { NO_COLOR: undefined, FORCE_COLOR: '1', TERM: 'xterm' };
  assert.ok(nh(invalid, { env: colourable }).stdout.includes(ESCAPE), 'FORCE_COLOR gives escapes (else the checks below prove nothing)');
  assert.ok(!nh(invalid, { env: { ...colourable, NO_COLOR: '1' } }).stdout.includes(ESCAPE), 'NO_COLOR wins over FORCE_COLOR');
  assert.ok(!nh([...invalid, '--no-color'], { env: colourable }).stdout.includes(ESCAPE), '--no-color');
  assert.ok(!nh(invalid, { env: { ...colourable, TERM: 'dumb' } }).stdout.includes(ESCAPE), 'TERM=dumb');
  assert.ok(!nh(invalid, { env: { ...colourable, FORCE_COLOR: undefined } }).stdout.includes(ESCAPE), 'a pipe is not a terminal');
  assert.ok(nh(invalid, { env: { ...colourable, NO_COLOR: '' } }).stdout.includes(ESCAPE), 'an empty NO_COLOR is not set (no-color.org)');
});

test('colour on a real terminal (a pty from script(1)), and NO_COLOR there', () => {
  const onTerminal = (env: Record<string, string | undefined>) => {
    const command = [process.execPath, bin, ...invalid].map((word) => `'${word}'`).join(' ');
    const result = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: repoRoot, env: { ...process.env, FORCE_COLOR: undefined, TERM: 'xterm', ...env }, encoding: 'utf8' });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stdout, /the config is empty/);
    return result.stdout;
  };
  assert.ok(onTerminal({ NO_COLOR: undefined }).includes(ESCAPE), 'a terminal gets colour');
  assert.ok(!onTerminal({ NO_COLOR: '1' }).includes(ESCAPE), 'NO_COLOR turns it off');
});
