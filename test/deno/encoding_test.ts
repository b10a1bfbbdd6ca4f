/// <reference lib="deno.ns" />
import assert from 'node:assert/strict'
import { createApp } from '../../src/app.ts'
import { bindingsOnly } from '../../src/env.ts'
import { undecodedCoding } from '../../src/upstream/fetch.ts'
import { startUpstream } from './support/upstream.ts'

/**
 * A stream in a content coding Deno's `fetch` hands back undecoded (`zstd`, `deflate`, an
 * unknown name) is never relayed: the redaction could not read it. test/proxy/faults.test.ts
 * asserts the same on Node and workerd.
 */
const KEY = `sk-ant-test-${crypto.randomUUID()}`
const CLIENT_TOKEN = `client-token-${crypto.randomUUID()}`

Deno.test('a stream in a coding fetch does not decode is a 502, its bytes unsent', async () => {
  const upstream = startUpstream({ key: KEY })
  const app = createApp({ env: bindingsOnly, retry: { maxRetries: 0 }, logSink: () => {} })
  const bindings = {
    ANTHROPIC_API_KEY: KEY,
    ANTHROPIC_BASE_URL: upstream.url,
    KEYLINE_CLIENT_TOKENS: CLIENT_TOKEN,
  }
  const stream = async (coding: string): Promise<Response> =>
    await app.request(
      '/v1/messages',
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${CLIENT_TOKEN}`,
          'content-type': 'application/json',
          'anthropic-beta': `coding-${coding}`,
        },
        body: JSON.stringify({
          model: 'claude-sonnet-4-5',
          max_tokens: 16,
          stream: true,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      },
      bindings
    )
  try {
    for (const coding of ['zstd', 'deflate', 'x-custom', 'identity']) {
      const res = await stream(coding)
      const text = await res.text()
      assert.equal(res.status, 502, coding)
      assert.equal(JSON.parse(text).error.keyline_type, 'upstream_malformed')
      assert.ok(!text.includes(KEY.slice(-12)))
    }
    // A coding Deno's fetch decodes (gzip): relayed, the key in it redacted.
    const res = await stream('gzip')
    const text = await res.text()
    assert.equal(res.status, 200)
    assert.ok(text.includes('message_stop'))
    assert.ok(!text.includes(KEY.slice(-12)))
  } finally {
    await upstream.close()
  }
})

// Deno's fetch decodes one `gzip` or `br`, in any case; it leaves stacks, `x-gzip` and `deflate`.
Deno.test('undecodedCoding on Deno: one gzip or br passes, everything else is refused', () => {
  const undecoded = (value: string): boolean =>
    undecodedCoding(new Headers({ 'content-encoding': value }))
  for (const value of ['gzip', 'GZIP', 'br']) assert.equal(undecoded(value), false, value)
  for (const value of ['gzip, br', 'x-gzip', 'deflate', 'zstd', 'identity', 'gzip,']) {
    assert.equal(undecoded(value), true, value)
  }
})
