// Lint rules that keep the layering honest: pure layers may not reach for I/O.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = ['node:fs', 'node:fs/promises', 'fs', 'node:child_process', 'node:net', 'node:http', 'node:https',
  '@kubernetes/client-node', 'listr2', 'ws'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'examples/**', 'src/config/*.generated.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      // The scripts and the launcher are outside tsconfig.json; the default project's cap of 8 files is a guard
      // against globs that match hundreds, and these are nine.
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs', 'bin/*.js'], maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 16 },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // An async function without await is still a fine way to return a promise.
      '@typescript-eslint/require-await': 'off',
      'no-console': 'error',
    },
  },
  {
    // Pure layers: no I/O imports. They receive everything (files' text, clock, cluster state) as arguments.
    files: ['src/config/**/*.ts', 'src/plan/**/*.ts', 'src/desired/**/*.ts', 'src/model/**/*.ts',
      'src/sync/{rules,paths,tar,tree,plan,batch,agent-protocol}.ts', 'src/render/manifests.ts', 'src/space/spec.ts', 'src/util/**/*.ts'],
    ignores: ['src/config/read-files.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ioModules }] },
  },
  {
    files: ['src/cli/**/*.ts', 'scripts/**/*.mjs', 'bin/*.js', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // node:test's test() returns a promise the runner tracks itself.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', structuredClone: 'readonly' } },
  },
  {
    // bin/ is CommonJS (bin/package.json).
    files: ['bin/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
