// Manifest text → objects with positions: multi-document YAML, JSON, Lists, empty documents, and located
// problems for what cannot be applied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifests } from '../../../src/render/manifests.js';

test('multi-document YAML: each object with the line it starts on; empty and null documents dropped', () => {
  const text = '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# only a comment\n---\nnull\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n';
  const { objects, problems } = parseManifests('k8s/app.yaml', text);
  assert.deepEqual(problems, []);
  assert.deepEqual(objects.map((o) => [o.object.kind, o.object.metadata.name, o.at.line, o.at.col]), [['ConfigMap', 'a', 2, 1], ['Service', 'b', 10, 1]]);
});

test('JSON files and Lists are read too', () => {
  const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }] });
  assert.deepEqual(parseManifests('all.json', list).objects.map((o) => o.object.kind), ['Secret', 'ConfigMap']);
});

test('what cannot be applied is a located problem, and the rest still parses', () => {
  const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\nkind: Service\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Pod\nmetadata: {generateName: p-}\n---\n- a list\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad\n';
  const { objects, problems } = parseManifests('m.yaml', text);
  assert.deepEqual(objects.map((o) => o.object.metadata.name), ['ok']);
  assert.deepEqual(problems.map((p) => [p.code, p.line]), [['manifest-invalid', 5], ['manifest-invalid', 8], ['manifest-invalid', 12], ['manifest-yaml', 17]]);
  assert.match(problems[0]!.message, /no `apiVersion`/);
  assert.match(problems[1]!.message, /generateName cannot be applied/);
});

test('a duplicate key is a YAML problem at its position', () => {
  const { problems } = parseManifests('d.yaml', 'apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata: {name: x}\n');
  assert.deepEqual(problems.map((p) => [p.code, p.line, p.col]), [['manifest-yaml', 3, 1]]);
});

test('manifests are read as YAML 1.1, as kubectl reads them: on, yes and N are booleans', () => {
  const { objects } = parseManifests('m.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: on, b: N, c: "on"}\n');
  assert.deepEqual(objects[0]!.object['data'], { a: true, b: false, c: 'on' });
});
