/**
 * Shared setup of the admin unit tests (Web APIs only: runs in Node and in workerd). Secret
 * values are generated at run time; the fake upstream accepts the keys a test declares valid.
 */
import { Hono } from 'hono'
import { adminRoutes } from '../../src/admin/admin-routes.ts'
import type { ClientAddressReader } from '../../src/admin/client-address.ts'
import type { RateLimitOptions } from '../../src/admin/failure-limiter.ts'
import { bindingsOnly } from '../../src/env.ts'
import { errorResponse, onError } from '../../src/middleware/on-error.ts'
import { secrets } from '../../src/middleware/secrets.ts'
import type { KvLike } from '../../src/rotation/epoch-record.ts'
import { NextSecretValidator } from '../../src/rotation/next-validator.ts'
import { reloadEpoch } from '../../src/rotation/reload-epoch.ts'
import { SecretRegistry } from '../../src/secrets/registry.ts'
import { HealthTracker } from '../../src/telemetry/provider-health.ts'

/**
 * A random value of `length` characters, unlike any real credential (no prefix: every
 * 5-character piece of it must be absent from responses and logs). `_label` only documents it.
 */
export const randomValue = (_label: string, length = 40): string => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  const bytes = crypto.getRandomValues(new Uint8Array(length))
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('')
}

/** Every 5-character piece of `value`: none may appear in a response or a log line. */
export const pieces = (value: string, size = 5): string[] => {
  const out: string[] = []
  for (let i = 0; i + size <= value.length; i++) out.push(value.slice(i, i + size))
  return out
}

/** Fails when `text` holds `value` or any 5-character piece of it. */
export const leaks = (text: string, value: string): string | undefined =>
  text.includes(value) ? value : pieces(value).find((piece) => text.includes(piece))

/** A fake Anthropic and Fyers upstream that accepts declared keys and records each call. */
export const fakeUpstream = () => {
  const anthropicKeys = new Set<string>()
  const fyersTokens = new Set<string>()
  const calls: { url: string; redirect: string | undefined }[] = []
  let anthropicStatus: number | undefined
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input instanceof Request ? input.url : input)
    calls.push({ url, redirect: init?.redirect })
    const headers = new Headers(init?.headers)
    if (url.endsWith('/v1/models')) {
      if (anthropicStatus) return new Response('{}', { status: anthropicStatus })
      const ok =
        anthropicKeys.has(headers.get('x-api-key') ?? '') &&
        headers.get('anthropic-version') === '2023-06-01'
      return Response.json(ok ? { data: [] } : { type: 'error' }, { status: ok ? 200 : 401 })
    }
    if (url.endsWith('/api/v3/profile')) {
      const token = (headers.get('authorization') ?? '').split(':')[1] ?? ''
      return fyersTokens.has(token)
        ? Response.json({ s: 'ok', code: 200, data: {} })
        : Response.json({ s: 'error', code: -16, message: 'token invalid' })
    }
    return new Response('not found', { status: 404 })
  }
  return {
    anthropicKeys,
    fyersTokens,
    calls,
    fetch: fetch as typeof globalThis.fetch,
    failAnthropicWith(status: number | undefined) {
      anthropicStatus = status
    },
  }
}

/** An in-memory stand-in for a Workers KV namespace. */
export const memoryKv = (): KvLike & { data: Map<string, string> } => {
  const data = new Map<string, string>()
  return {
    data,
    async get(key) {
      return data.get(key) ?? null
    },
    async put(key, value) {
      data.set(key, value)
    },
  }
}

/** Options of {@link adminHarness}. */
export interface HarnessOptions {
  rateLimit?: RateLimitOptions
  upstream?: ReturnType<typeof fakeUpstream>
  now?: () => number
  epochIntervalMs?: number
  clientAddress?: ClientAddressReader
}

/**
 * An app composed as `createApp` will compose it: reloadEpoch, secrets(), the admin routes at
 * `/admin`, keyline's 404 and onError; every admin log line is captured in `lines`.
 */
export const adminHarness = (options: HarnessOptions = {}) => {
  const registry = new SecretRegistry({ now: options.now })
  const health = new HealthTracker(options.now)
  const upstream = options.upstream ?? fakeUpstream()
  const validator = new NextSecretValidator({ fetch: upstream.fetch, now: options.now })
  const lines: Record<string, unknown>[] = []
  const log = (line: Record<string, unknown>): void => {
    lines.push(line)
  }
  const app = new Hono()
  app.use(
    reloadEpoch({
      registry,
      validator,
      env: bindingsOnly,
      log,
      now: options.now,
      intervalMs: options.epochIntervalMs,
    })
  )
  app.use(secrets({ registry, env: bindingsOnly }))
  app.route(
    '/admin',
    adminRoutes({
      registry,
      health,
      validator,
      env: bindingsOnly,
      log,
      runtime: 'test',
      rateLimit: options.rateLimit,
      clientAddress: options.clientAddress,
      now: options.now,
    })
  )
  app.notFound((c) =>
    errorResponse(c, 404, { error: { type: 'not_found', message: 'No such route' } })
  )
  app.onError(onError)

  const request = (
    path: string,
    env: Record<string, unknown>,
    init: { token?: string; method?: string; body?: unknown; headers?: Record<string, string> } = {}
  ): Promise<Response> => {
    const headers = new Headers(init.headers)
    if (init.token !== undefined) headers.set('authorization', `Bearer ${init.token}`)
    if (init.body !== undefined) headers.set('content-type', 'application/json')
    return Promise.resolve(
      app.request(
        path,
        {
          method: init.method ?? 'GET',
          headers,
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
        },
        env
      )
    )
  }
  return { app, registry, health, validator, upstream, lines, request }
}

/** A complete set of bindings with generated values. */
export const generatedEnv = () => {
  const values = {
    ADMIN_TOKEN: randomValue('admin-', 32),
    ANTHROPIC_API_KEY: randomValue('test-anthropic-'),
    FYERS_CLIENT_ID: randomValue('CID', 9),
    FYERS_ACCESS_TOKEN: randomValue('test-fyers-'),
  }
  return values
}
