import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTemplate, type TemplateInputs } from '../../../src/config/template.js';
import type { SourceFile } from '../../../src/config/source-text.js';

const vars: Record<string, string> = { IMAGE: 'node:20', EMPTY: '', PORT: '8080' };
const inputs = (includes: Record<string, string> = {}): TemplateInputs => ({
  lookup: (name) => vars[name],
  readInclude: (_from, path) => (includes[path] !== undefined ? { path: `inc/${path}`, text: includes[path] } : { error: 'no such file' }),
});
const render = (text: string, includes?: Record<string, string>) => renderTemplate({ path: 'c.yaml', text }, inputs(includes));

test('substitutes variables with Nocalhost semantics', () => {
  const cases: Array<[string, string]> = [
    ['image: ${IMAGE}', 'image: node:20'],
    ['image: $IMAGE', 'image: node:20'],
    ['p: ${MISSING:-9000}', 'p: 9000'],
    ['p: ${EMPTY:-9000}', 'p: 9000'],
    ['p: ${EMPTY-9000}', 'p: '],
    ['p: ${MISSING-9000}', 'p: 9000'],
    ['p: ${PORT:+set}', 'p: set'],
    ['p: ${MISSING:+set}', 'p: '],
    ['p: ${MISSING:-$PORT}', 'p: 8080'],
    ['p: ${MISSING:-${PORT}}', 'p: 8080'],
    ['cost: $$5 and $$IMAGE', 'cost: $5 and $IMAGE'],
    ['# $schema=x\nk: v', '# $schema=x\nk: v'],
    ['price: 5$', 'price: 5$'],
  ];
  for (const [input, expected] of cases) assert.equal(render(input).text.text, expected, input);
});

test('an unset variable becomes empty and is reported as a warning at its position', () => {
  const { text, problems } = render('a: 1\nb: x${NOPE}y\n');
  assert.equal(text.text, 'a: 1\nb: xy\n');
  assert.deepEqual(problems.map((p) => [p.severity, p.line, p.col, p.code]), [['warning', 2, 5, 'template-unset']]);
});

test('multi-line defaults work, as in Nocalhost templates', () => {
  const { text } = render('pattern: ${SYNC:-\n  - "."}\n');
  assert.equal(text.text, 'pattern: \n  - "."\n');
});

test('an unclosed expression is an error at the dollar sign', () => {
  const { problems } = render('a: 1\nimage: ${IMAGE\n');
  assert.deepEqual(problems.map((p) => [p.line, p.col, p.code, p.severity]), [[2, 8, 'template-unclosed', 'error']]);
});

test('_INCLUDE_ splices another file, indented by nindent', () => {
  const { text, problems } = render('services:\n  ${_INCLUDE_:- svc.yaml | nindent 2}\n', { 'svc.yaml': '- name: a\n  serviceType: deployment' });
  assert.deepEqual(problems, []);
  assert.equal(text.text, 'services:\n  \n  - name: a\n    serviceType: deployment\n');
});

test('positions inside included text map back to the included file', () => {
  const { text } = render('services:\n  ${_INCLUDE_:- svc.yaml | nindent 2}\n', { 'svc.yaml': '- name: a\n  serviceType: deployment' });
  const offset = text.text.indexOf('serviceType');
  assert.deepEqual(text.position(offset), { file: 'inc/svc.yaml', line: 2, col: 3 });
  const after = text.text.indexOf('name');
  assert.deepEqual(text.position(after), { file: 'inc/svc.yaml', line: 1, col: 3 });
});

test('positions after a substitution keep the original columns', () => {
  const source: SourceFile = { path: 'c.yaml', text: 'image: ${IMAGE} # then: here' };
  const { text } = renderTemplate(source, inputs());
  assert.deepEqual(text.position(text.text.indexOf('here')), { file: 'c.yaml', line: 1, col: 25 });
});

test('include problems are reported: missing file, unknown filter, cycle', () => {
  assert.equal(render('${_INCLUDE_:- nope.yaml}').problems[0]?.code, 'include-unreadable');
  assert.equal(render('${_INCLUDE_:- a.yaml | toYaml}', { 'a.yaml': 'x: 1' }).problems[0]?.code, 'include-filter');
  const cyclic: TemplateInputs = {
    lookup: () => undefined,
    readInclude: (from) => ({ path: from.path === 'c.yaml' ? 'd.yaml' : 'c.yaml', text: '${_INCLUDE_:- other.yaml}' }),
  };
  const { problems } = renderTemplate({ path: 'c.yaml', text: '${_INCLUDE_:- d.yaml}' }, cyclic);
  assert.equal(problems[0]?.code, 'include-cycle');
  assert.match(problems[0].message, /c\.yaml → d\.yaml → c\.yaml/);
});
