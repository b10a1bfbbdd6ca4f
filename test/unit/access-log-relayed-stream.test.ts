import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { bindingsOnly } from '../../src/env.ts'
import type { LogRecord } from '../../src/log/index.ts'
import { randomSecret } from './redact-helpers.ts'

const env = {
  KEYLINE_CLIENT_TOKENS: `client-${randomSecret(24)}`,
  ANTHROPIC_API_KEY: `sk-ant-${randomSecret(32)}`,
}

/** One streamed Messages call whose upstream answers `body` as SSE; the lines it logged. */
const relay = async (body: () => BodyInit) => {
  const lines: LogRecord[] = []
  const app = createApp({
    env: bindingsOnly,
    fetch: async () => new Response(body(), { headers: { 'content-type': 'text/event-stream' } }),
    logSink: (record) => lines.push(record),
  })
  const res = await app.request(
    'http://keyline.test/v1/messages',
    {
      method: 'POST',
      headers: {
        authorization: `Bearer ${env.KEYLINE_CLIENT_TOKENS}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 5,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    },
    env
  )
  const text = await res.text()
  await new Promise((resolve) => setTimeout(resolve, 20))
  return { status: res.status, text, access: lines.filter((line) => line.msg === 'request') }
}

describe('the access line of a relayed stream', () => {
  it.each([
    ['an empty stream', () => ''],
    ['a stream with no line break', () => 'event: ping'],
    ['a whole stream', () => 'event: ping\ndata: {}\n\n'],
    [
      'a stream that breaks at once',
      () =>
        new ReadableStream({
          start: (controller) => controller.error(new Error('reset')),
        }),
    ],
  ])('is written once for %s, ended before the answer left the middleware', async (_name, body) => {
    const { status, access } = await relay(body)
    expect(status).toBe(200)
    expect(access).toHaveLength(1)
    expect(access[0]?.status).toBe(200)
  })
})
