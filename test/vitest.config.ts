import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Network-namespace tests share host resources (namespaces, veths): one file at a time.
    fileParallelism: true,
    pool: 'forks',
  },
});
