import { cloudflareTest } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'

/**
 * Three projects: `node` and `workerd` run the same unit and proxy tests (test/unit,
 * test/proxy) in Node and inside real workerd (`node` also runs test/node, which needs Node
 * APIs; `workerd` also runs test/workerd, which needs Workers bindings); `servers` starts real
 * Node, workerd and Deno
 * servers on loopback for the HTTP contract and end-to-end suites.
 */
const shared = ['test/unit/**/*.test.ts', 'test/proxy/**/*.test.ts']

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: [...shared, 'test/node/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/setup/stubs.ts'],
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: { KEYLINE_TEST_RUNTIME: 'workerd' },
              // A Cloudflare Secrets Store secret for test/workerd (filled with adminSecretsStore()).
              secretsStoreSecrets: {
                KEYLINE_TEST_STORE_SECRET: {
                  store_id: 'keyline-test-store',
                  secret_name: 'anthropic-api-key',
                },
              },
            },
          }),
        ],
        test: {
          name: 'workerd',
          include: [...shared, 'test/workerd/**/*.test.ts'],
          globalSetup: ['test/setup/stubs.ts'],
        },
      },
      {
        test: {
          name: 'servers',
          include: ['test/contract/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
