import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAnthropicStub } from '../stubs/anthropic.ts'
import { type StubControl, stubControl } from '../stubs/control.ts'
import { generateStubKeys, stubOptionsFor } from '../stubs/fixtures.ts'
import { startFyersStub } from '../stubs/fyers.ts'
import type { StartedStub } from '../stubs/stub-server.ts'
import { awayFromMinuteEdge, countsOf, type StatusCount } from '../support/quota-window.ts'
import { type RedisServer, startRedisServer } from '../support/redis-server.ts'
import { type RunningServer, startServer } from './harness/server.ts'

/**
 * Per-client quotas across replicas: two Node processes and a Deno one on one real Redis
 * (`KEYLINE_REDIS_URL`), the quotas in a file (`KEYLINE_CLIENT_LIMITS_FILE`) that a reload
 * re-reads. Counts are exact across replicas; a stopped Redis serves (or refuses when told).
 */
const ADMIN = `admin-${crypto.randomUUID()}`
const TOKENS = {
  ci: `ci-${crypto.randomUUID()}`,
  bulk: `bulk-${crypto.randomUUID()}`,
  mixed: `mixed-${crypto.randomUUID()}`,
  free: `free-${crypto.randomUUID()}`,
}
const keys = generateStubKeys()
const MESSAGE = {
  model: 'claude-sonnet-4-5',
  max_tokens: 64,
  messages: [{ role: 'user', content: 'Hi' }],
}

let redis: RedisServer
let anthropicStub: StartedStub
let fyersStub: StartedStub
let anthropic: StubControl
let dir: string
let limitsFile: string
const servers: RunningServer[] = []
let a: RunningServer
let b: RunningServer
let deno: RunningServer

const as = (
  server: RunningServer,
  who: keyof typeof TOKENS,
  path = '/v1/models',
  init: RequestInit = {}
) =>
  fetch(`${server.url}${path}`, {
    ...init,
    headers: { ...init.headers, authorization: `Bearer ${TOKENS[who]}` },
  })

const message = (server: RunningServer, who: keyof typeof TOKENS, body: object = MESSAGE) =>
  as(server, who, '/v1/messages', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

interface LimitsStatus {
  engine: string
  issues: string[]
  clients: Record<string, { counts: StatusCount[] }>
}
const limitsOf = async (server: RunningServer): Promise<LimitsStatus> => {
  const answer = await fetch(`${server.url}/admin/keys/status`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  })
  return ((await answer.json()) as { limits: LimitsStatus }).limits
}

const reload = async (server: RunningServer): Promise<void> => {
  const answer = await fetch(`${server.url}/admin/keys/reload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}` },
  })
  expect(answer.status).toBe(200)
}

const upstreamCalls = async (path: string): Promise<number> =>
  ((await anthropic.requests()) as { path: string }[]).filter((r) => r.path === path).length

beforeAll(async () => {
  const options = stubOptionsFor(keys)
  ;[redis, anthropicStub, fyersStub, dir] = await Promise.all([
    startRedisServer(),
    startAnthropicStub(options.anthropic),
    startFyersStub(options.fyers),
    mkdtemp(join(tmpdir(), 'keyline-quotas-')),
  ])
  anthropic = stubControl(anthropicStub.url)
  limitsFile = join(dir, 'limits')
  await writeFile(limitsFile, 'ci:rpm=25,bulk:tpm=1,mixed:rpm=30')
  const bindings = {
    KEYLINE_CLIENT_TOKENS: Object.entries(TOKENS)
      .map(([name, value]) => `${name}=${value}`)
      .join(','),
    KEYLINE_CLIENT_LIMITS_FILE: limitsFile,
    ADMIN_TOKEN: ADMIN,
    KEYLINE_REDIS_URL: redis.url,
    ANTHROPIC_API_KEY: keys.anthropic.apiKey,
    ANTHROPIC_BASE_URL: anthropicStub.url,
    FYERS_BASE_URL: fyersStub.url,
    FYERS_CLIENT_ID: keys.fyers.clientId,
    FYERS_ACCESS_TOKEN: keys.fyers.accessToken,
  }
  servers.push(
    ...(await Promise.all([
      startServer('node', { bindings }),
      startServer('node', { bindings }),
      startServer('deno', { bindings }),
    ]))
  )
  ;[a, b, deno] = servers as [RunningServer, RunningServer, RunningServer]
}, 120_000)

afterAll(async () => {
  await Promise.allSettled(servers.map((s) => s.stop()))
  await Promise.allSettled([redis?.stop(), anthropicStub?.close(), fyersStub?.close()])
  await rm(dir, { recursive: true, force: true })
})

describe('client quotas on Redis, across replicas', () => {
  it('pass exactly rpm of 40 parallel requests over two Node replicas, and send no more upstream', async () => {
    await awayFromMinuteEdge()
    const before = await upstreamCalls('/v1/models')
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => as(i % 2 ? a : b, 'ci')))
    const statuses = answers.map((r) => r.status)
    const logs = `${a.output()}\n${b.output()}`
    expect(
      statuses.filter((s) => s === 200),
      logs
    ).toHaveLength(25)
    expect(statuses.filter((s) => s === 429)).toHaveLength(15)
    expect((await upstreamCalls('/v1/models')) - before).toBe(25)
    const refused = answers.find((r) => r.status === 429) as Response
    expect(refused.headers.get('keyline-ratelimit-limit')).toBe('25')
    expect(refused.headers.get('keyline-ratelimit-remaining')).toBe('0')
    const retry = Number(refused.headers.get('retry-after'))
    expect(retry).toBeGreaterThanOrEqual(1)
    expect(retry).toBeLessThanOrEqual(60)
    expect(await refused.json()).toMatchObject({
      type: 'error',
      error: {
        type: 'rate_limit_error',
        message: expect.stringContaining('ci reached its quota rpm=25'),
      },
    })
    for (const answer of answers) if (!answer.bodyUsed) await answer.body?.cancel()
    // Every replica reads the same counters; the neighbour without limits is untouched.
    const seen = countsOf((await limitsOf(deno)).clients.ci)
    expect([seen.rpm?.used, seen.refused?.used]).toEqual([25, 15])
    const free = await as(a, 'free')
    expect(free.status).toBe(200)
    expect(free.headers.get('keyline-ratelimit-limit')).toBeNull()
  })

  it('count a Node and a Deno replica together, exactly', async () => {
    await awayFromMinuteEdge()
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        as(i % 2 ? a : deno, 'mixed', '/v1/quotes?symbols=NSE:SBIN-EQ')
      )
    )
    expect(answers.filter((r) => r.status === 200)).toHaveLength(30)
    const refused = answers.filter((r) => r.status === 429)
    expect(refused).toHaveLength(10)
    // keyline's own error shape on the Fyers route.
    const body = (await (refused[0] as Response).json()) as {
      type?: string
      error: { type: string }
    }
    expect(body.type).toBeUndefined()
    expect(body.error.type).toBe('rate_limit_error')
    for (const answer of answers) if (!answer.bodyUsed) await answer.body?.cancel()
  })

  it('charge tpm from plain and streamed usage, seen by every replica', async () => {
    const plain = await message(a, 'bulk')
    expect(plain.status).toBe(200)
    const usage = (
      (await plain.json()) as { usage: { input_tokens: number; output_tokens: number } }
    ).usage
    const used = usage.input_tokens + usage.output_tokens
    await expect.poll(async () => countsOf((await limitsOf(b)).clients.bulk).tpm?.used).toBe(used)
    const refused = await message(b, 'bulk', { ...MESSAGE, stream: true })
    expect(refused.status).toBe(429)
    expect(await refused.text()).toContain('tpm=1')

    await writeFile(limitsFile, 'ci:rpm=25,bulk:tpm=1000000,mixed:rpm=30')
    await Promise.all([reload(a), reload(b)])
    const streamed = await message(b, 'bulk', { ...MESSAGE, stream: true })
    expect(streamed.status).toBe(200)
    const text = await streamed.text()
    const input = Number(/"input_tokens":(\d+)/.exec(text)?.[1])
    const output = Math.max(
      ...[...text.matchAll(/"output_tokens":(\d+)/g)].map((m) => Number(m[1]))
    )
    await expect
      .poll(async () => countsOf((await limitsOf(a)).clients.bulk).tpm?.used)
      .toBe(used + input + output)
  })

  it('take new limits on a reload, without a restart', async () => {
    await writeFile(limitsFile, 'ci:rpm=25:rpd=5000,bulk:tpm=1000000,mixed:rpm=30,ghost:rpm=1')
    await reload(a)
    const limits = await limitsOf(a)
    expect(countsOf(limits.clients.ci).rpd?.limit).toBe(5000)
    expect(limits.issues.join('\n')).toContain('no client token is named ghost')
    const answer = await as(a, 'ci')
    expect(answer.headers.get('keyline-ratelimit-limit')).toBeTruthy()
    await answer.body?.cancel()
  })

  it('serve within the budget while Redis is down (fail open), warning once', async () => {
    await redis.stop()
    const started = performance.now()
    const answers = await Promise.all(Array.from({ length: 5 }, () => as(a, 'mixed', '/v1/models')))
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200])
    expect(performance.now() - started).toBeLessThan(2_000)
    for (const answer of answers) if (!answer.bodyUsed) await answer.body?.cancel()
    await expect.poll(() => a.output()).toContain('counter store is unavailable')
    expect(a.output().split('counter store is unavailable').length - 1).toBe(1)
  })

  it('refuse with a 503 while Redis is down when KEYLINE_CLIENT_LIMITS_FAIL=closed', async () => {
    const closed = await startServer('node', {
      bindings: {
        KEYLINE_CLIENT_TOKENS: `ci=${TOKENS.ci}`,
        KEYLINE_CLIENT_LIMITS: 'ci:rpm=5',
        KEYLINE_CLIENT_LIMITS_FAIL: 'closed',
        KEYLINE_REDIS_URL: redis.url,
        ANTHROPIC_API_KEY: keys.anthropic.apiKey,
        ANTHROPIC_BASE_URL: anthropicStub.url,
      },
    })
    servers.push(closed)
    const before = await upstreamCalls('/v1/models')
    const answer = await as(closed, 'ci')
    expect(answer.status).toBe(503)
    expect(answer.headers.get('retry-after')).toBe('1')
    expect(((await answer.json()) as { error: { message: string } }).error.message).toContain(
      'KEYLINE_CLIENT_LIMITS_FAIL is closed'
    )
    expect(await upstreamCalls('/v1/models')).toBe(before)
  })
})
