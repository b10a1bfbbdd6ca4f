import { describe, it } from 'vitest'
import { describeRuntimes } from './harness/describe-runtimes.ts'

/**
 * Provider routes with no provider configured: the servers get no binding at all (the harness
 * never inherits the developer's keys). Add a `describe` per route; suites that need keys or stub
 * upstreams pass them with `describeRuntimes(name, cases, { bindings })`.
 *
 * Not covered yet: `_FILE` secrets on node and deno (workerd cannot read files). They need a
 * route that shows a provider configured, then `bindings: ({ dir }) => ({ ANTHROPIC_API_KEY_FILE:
 * <a file written into dir> })` with `runtimes: ['node', 'deno']`.
 */
describeRuntimes('provider routes without keys', () => {
  describe('POST /v1/messages', () => {
    it.todo(
      'with no keys, answers 503 provider_not_configured naming ANTHROPIC_API_KEY as the variable to set'
    )
  })

  describe('GET /v1/quotes', () => {
    it.todo(
      'with no keys, answers 503 provider_not_configured naming FYERS_CLIENT_ID and FYERS_ACCESS_TOKEN'
    )
  })
})
