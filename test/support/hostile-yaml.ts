/**
 * Hostile config files, each within the 1 MiB a config may have: what the fuzz test mutates and the validate
 * benchmark times. `make(scale)` grows the file; `code` is the problem each is answered with: an error that refuses
 * it, or (`accepted`) a warning, for what nhctl accepted too. The include bomb includes `./part.yaml`, which the
 * caller provides.
 */
export interface HostileYaml {
  readonly name: string;
  readonly make: (scale: number) => string;
  readonly code: string;
  readonly accepted?: true;
}

export const HOSTILE: readonly HostileYaml[] = [
  {
    name: 'billion laughs (nine aliases of nine aliases, nine levels)',
    code: 'yaml-too-large',
    make: (scale) => {
      const levels = 'abcdefghi'.slice(0, 6 + 3 * Math.min(scale, 1));
      let text = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n';
      for (let i = 1; i < levels.length; i++) text += `${levels[i]}: &${levels[i]} [${Array(9).fill(`*${levels[i - 1]}`).join(', ')}]\n`;
      return `${text}name: bomb\ncontainers:\n  - dev:\n      env:\n        - name: X\n          value: *${levels[levels.length - 1]}\n`;
    },
  },
  { name: '10,000 nested [', code: 'yaml-too-large', make: (scale) => `name: x\ncontainers: ${'['.repeat(10_000 * scale)}${']'.repeat(10_000 * scale)}\n` },
  { name: '5,000 nested {a:', code: 'yaml-too-large', make: (scale) => `${'{a: '.repeat(5_000 * scale)}1${'}'.repeat(5_000 * scale)}\n` },
  { name: '200 nested block mappings', code: 'yaml-too-large', make: (scale) => Array.from({ length: 200 * scale }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n' },
  { name: 'a scalar of up to 900 kB', code: 'bad-name', make: (scale) => `name: ${'x'.repeat(300_000 * scale)}\n` },
  { name: '25,000 comment lines', code: 'yaml-too-large', make: (scale) => `name: x\n${'# c\n'.repeat(25_000 * scale)}` },
  { name: '25,000 values on one line', code: 'yaml-too-large', make: (scale) => `name: x\ncontainers: [${'{},'.repeat(25_000 * scale)}]\n` },
  { name: '1,000 documents', code: 'yaml-multiple-docs', make: (scale) => '---\nname: x\n'.repeat(1_000 * scale) },
  { name: 'thousands of unknown keys', code: 'unknown-key', accepted: true, make: (scale) => `name: x\n${Array.from({ length: 3_000 * scale }, (_, i) => `k${i}: 1`).join('\n')}\n` },
  { name: 'an alias before its anchor', code: 'yaml-unknown-alias', make: () => 'name: *later\nserviceType: &later deployment\n' },
  { name: 'an alias inside its own anchor', code: 'yaml-circular-alias', make: () => 'name: x\ncontainers: &c [{dev: {env: *c}}]\n' },
  { name: 'a file included 150 times', code: 'include-too-many', make: (scale) => '- ${_INCLUDE_:- ./part.yaml | nindent 2}\n'.repeat(150 * scale) },
  { name: 'tens of thousands of unset variables on one line', code: 'template-unset', accepted: true, make: (scale) => `name: x\ncontainers: [{dev: {image: "${Array.from({ length: 50_000 * scale }, (_, i) => `$v${i}`).join('')}"}}]\n` },
];
