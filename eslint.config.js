// ESLint 9 flat config (`npm run lint`): typescript-eslint's recommended rules, not the
// type-checked set: tsc already runs in CI (`npm run build`), and type-aware linting costs a
// second full program on two cores. The layers are checked by dependency-cruiser
// (.dependency-cruiser.cjs, `npm run check:layers`), not here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Globals of the Node scripts (.js/.mjs: TypeScript files are checked by tsc and the
// typescript-eslint preset turns no-undef off for them).
const NODE_GLOBALS = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'URLSearchParams', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate',
    'queueMicrotask', 'structuredClone', 'performance', 'AbortController', 'AbortSignal', 'TextEncoder', 'TextDecoder', 'fetch', 'globalThis'].map((g) => [g, 'readonly']),
);

export default tseslint.config(
  {
    ignores: ['dist/**', 'ui/dist/**', 'node_modules/**', 'test/corpus/**', 'test/fixtures/**', '**/*.svelte'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,js,mjs,cjs}'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: NODE_GLOBALS,
    },
    rules: {
      // `_name` marks a deliberately unused one; a caught error need not be used.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Vigie matches control characters on purpose: it escapes C0/C1 and DEL in names seen on the network (issue 16, #7).
      'no-control-regex': 'off',
    },
  },
  {
    // Every change to the store goes through Store's methods (issue 16): outside daemon/store/ its
    // document is not reached into. Tests may read it to check what was kept.
    files: ['daemon/**/*.ts'],
    ignores: ['daemon/store/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[property.name='data'][object.name='store']", message: 'use a Store method, not store.data' },
        { selector: "MemberExpression[property.name='data'][object.property.name='store']", message: 'use a Store method, not store.data' },
      ],
    },
  },
  {
    files: ['test/**'],
    rules: {
      // Tests read JSON documents and API answers whose shape is what they check; the daemon itself has no `any`.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...NODE_GLOBALS, module: 'writable', require: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
