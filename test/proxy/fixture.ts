import { inject } from 'vitest'
import { type AppOptions, createApp } from '../../src/app.ts'
import { bindingsOnly } from '../../src/env.ts'
import type { LogRecord } from '../../src/log/logger.ts'
import { type StubControl, stubControl } from '../stubs/control.ts'
import { stubBindings } from '../stubs/fixtures.ts'

/** Fast retry settings so fault tests take milliseconds, not seconds. */
export const FAST_RETRY = {
  maxRetries: 2,
  baseDelayMs: 5,
  maxDelayMs: 1500,
  headersTimeoutMs: 1500,
  idleTimeoutMs: 1500,
}

/** A proxy wired to fresh, isolated stub sessions, and a client that holds a valid token. */
export interface ProxyFixture {
  /** The app under test; tests may add routes to it. */
  readonly app: ReturnType<typeof createApp>
  readonly anthropic: StubControl
  readonly fyers: StubControl
  readonly env: Record<string, string>
  readonly clientToken: string
  readonly keys: ReturnType<typeof inject<'stubKeys'>>
  /** Every log line the proxy wrote (access, audit, errors), as records. */
  readonly logs: LogRecord[]
  /** Calls the proxy as an authenticated client; `headers` add to or override the defaults. */
  call(path: string, init?: RequestInit, env?: Record<string, string>): Promise<Response>
  /** A JSON `POST /v1/messages`. */
  messages(body: Record<string, unknown>, headers?: Record<string, string>): Promise<Response>
}

/** A valid Messages request body. */
export const MESSAGE = {
  model: 'claude-sonnet-4-5',
  max_tokens: 64,
  messages: [{ role: 'user', content: 'Hello' }],
}

/** Builds a proxy fixture; `env` adds to or overrides the bindings. */
export const proxyFixture = async (
  env: Record<string, string> = {},
  options: AppOptions = {}
): Promise<ProxyFixture> => {
  const stubs = inject('stubs')
  const keys = inject('stubKeys')
  const [anthropic, fyers] = await Promise.all([
    stubControl(stubs.anthropic).session(),
    stubControl(stubs.fyers).session(),
  ])
  const clientToken = `client-token-${crypto.randomUUID()}`
  const bindings: Record<string, string> = {
    ...stubBindings(keys, { anthropic: anthropic.url, fyers: fyers.url }, clientToken),
    ...env,
  }
  const logs: LogRecord[] = []
  const app = createApp({
    env: bindingsOnly,
    retry: FAST_RETRY,
    logSink: (record) => logs.push(record),
    ...options,
  })
  const call = (path: string, init: RequestInit = {}, override = bindings): Promise<Response> => {
    const headers = new Headers(init.headers)
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${clientToken}`)
    return Promise.resolve(app.request(path, { ...init, headers }, override))
  }
  return {
    app,
    anthropic,
    fyers,
    env: bindings,
    clientToken,
    keys,
    logs,
    call,
    messages: (body, headers = {}) =>
      call('/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }),
  }
}

/** Reads a stream's chunks as text until `done` says to stop. */
export const readUntil = async (
  reader: ReadableStreamDefaultReader<Uint8Array>,
  done: (text: string) => boolean
): Promise<string> => {
  const decoder = new TextDecoder()
  let text = ''
  while (!done(text)) {
    const { value, done: end } = await reader.read()
    if (end) break
    text += decoder.decode(value, { stream: true })
  }
  return text
}
