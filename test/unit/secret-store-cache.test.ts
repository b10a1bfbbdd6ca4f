/**
 * The store cache's semantics (those of AWS's caching libraries) on a fake clock: refresh at a
 * random moment in [TTL/2, TTL], one fetch shared by concurrent readers, stale value kept on a
 * failed refresh with exponential backoff and jitter, bounded waits, reload; and the
 * `keyline.secrets.store.fetches` counter by store and outcome.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { StoreKind } from '../../src/catalog/keyline.ts'
import { ADMIN_TOKEN_VARIABLES } from '../../src/catalog/keyline.ts'
import { RequestRedactors } from '../../src/middleware/request-secrets.ts'
import { envSecretValues } from '../../src/redact/collect-secrets.ts'
import { createRedactor } from '../../src/redact/redactor.ts'
import { STORE_BACKED_VARIABLES } from '../../src/secrets/index.ts'
import { awsEndpoint, awsRegion } from '../../src/secrets/stores/aws-request.ts'
import { StoreCache, type StoreFetchOutcome } from '../../src/secrets/stores/store-cache.ts'
import type { StoreFetched, StoreRef } from '../../src/secrets/stores/store-fetch.ts'
import { StoreSources } from '../../src/secrets/stores/store-sources.ts'
import { METRICS } from '../../src/telemetry/definitions.ts'
import { resetTelemetryState } from '../../src/telemetry/instruments.ts'
import { recordStoreFetch } from '../../src/telemetry/record.ts'
import { installTestMetrics, type TestMetrics } from './telemetry/collect.ts'

const TTL = 60_000

/** A store whose answers the test scripts: each fetch takes the next answer. */
const scriptedRef = (kind: StoreKind = 'aws-sm') => {
  const answers: (StoreFetched | Error | 'hang')[] = []
  let calls = 0
  const ref: StoreRef = {
    kind,
    key: `test\u0000${crypto.randomUUID()}`,
    source: 'aws-sm:test/secret',
    fetch: async ({ signal }) => {
      calls++
      const answer = answers.shift() ?? new Error('no answer scripted')
      if (answer === 'hang') {
        return new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted')))
        )
      }
      if (answer instanceof Error) throw answer
      return answer
    },
  }
  return {
    ref,
    answers,
    calls: () => calls,
  }
}

const input = { env: {}, credentials: undefined, fetch: globalThis.fetch }

describe('StoreCache', () => {
  let now = 1_000_000
  let random = 0.5
  const outcomes: [StoreKind, StoreFetchOutcome][] = []
  const cache = (options: { timeoutMs?: number } = {}) =>
    new StoreCache({
      now: () => now,
      random: () => random,
      onFetch: (kind, outcome) => outcomes.push([kind, outcome]),
      ...options,
    })
  beforeEach(() => {
    now = 1_000_000
    random = 0.5
    outcomes.length = 0
  })

  it('fetches on first use only, and refreshes at a random moment between TTL/2 and TTL', async () => {
    for (const [r, expected] of [
      [0, TTL / 2],
      [0.999, TTL * 0.9995],
    ] as const) {
      random = r
      const c = cache()
      const s = scriptedRef()
      s.answers.push({ value: 'one', versionId: 'v1' })
      expect(s.calls()).toBe(0)
      await c.due(s.ref, input, TTL)
      expect(c.entry(s.ref)?.fetched?.value).toBe('one')
      expect(c.entry(s.ref)?.refreshAt).toBe(now + expected)
      expect(c.due(s.ref, input, TTL)).toBeUndefined()
      expect(s.calls()).toBe(1)
    }
  })

  it('concurrent readers share one fetch', async () => {
    const c = cache()
    const s = scriptedRef()
    s.answers.push({ value: 'one' })
    await Promise.all(Array.from({ length: 10 }, () => c.due(s.ref, input, TTL)))
    expect(s.calls()).toBe(1)
  })

  it('a failed refresh keeps the cached value and backs off exponentially with jitter', async () => {
    const c = cache()
    const s = scriptedRef()
    s.answers.push({ value: 'one' }, new Error('down'), new Error('down'), new Error('down'))
    await c.due(s.ref, input, TTL)
    const delays: number[] = []
    for (let i = 0; i < 3; i++) {
      now = Math.max(now + TTL, (c.entry(s.ref)?.retryAt ?? 0) + 1)
      await c.due(s.ref, input, TTL)
      const entry = c.entry(s.ref)
      expect(entry?.fetched?.value).toBe('one')
      delays.push((entry?.retryAt ?? 0) - now)
      // Backing off: no fetch before retryAt.
      expect(c.due(s.ref, input, TTL)).toBeUndefined()
    }
    // random = 0.5: 3/4 of 1 s, 2 s, 4 s.
    expect(delays).toEqual([750, 1500, 3000])
    expect(c.entry(s.ref)?.failures).toBe(3)
    expect(c.entry(s.ref)?.lastError).toBe('aws-sm:test/secret: fetch failed (Error)')
    expect(outcomes.map(([, o]) => o)).toEqual(['success', 'stale', 'stale', 'stale'])
  })

  it('a first fetch that fails is a failure; reload() retries at once', async () => {
    const c = cache()
    const s = scriptedRef('aws-ssm')
    s.answers.push(new Error('down'), { value: 'one' })
    await c.due(s.ref, input, TTL)
    expect(c.entry(s.ref)?.fetched).toBeUndefined()
    expect(c.due(s.ref, input, TTL)).toBeUndefined()
    c.reload()
    await c.due(s.ref, input, TTL)
    expect(c.entry(s.ref)?.fetched?.value).toBe('one')
    expect(outcomes).toEqual([
      ['aws-ssm', 'failure'],
      ['aws-ssm', 'success'],
    ])
  })

  it('a store that does not answer holds a reader for the timeout at most', async () => {
    const c = cache({ timeoutMs: 50 })
    const s = scriptedRef()
    s.answers.push('hang')
    const started = Date.now()
    await c.due(s.ref, input, TTL)
    expect(Date.now() - started).toBeLessThan(1000)
  })
})

describe('redaction of an environment with store values laid over it', () => {
  it('redacts the store values and the variables it inherits', async () => {
    const stored = `sk-ant-test-${crypto.randomUUID()}`
    const plain = `plain-token-${crypto.randomUUID()}`
    const env = await new StoreSources().overlay({
      ANTHROPIC_API_KEY: { get: async () => stored },
      KEYLINE_CLIENT_TOKENS: plain,
    })
    expect(env.ANTHROPIC_API_KEY).toBe(stored)
    const redactor = new RequestRedactors(createRedactor()).for(env)
    const text = redactor.redactString(`upstream said ${stored} and ${plain}`)
    expect(text).not.toContain(stored)
    expect(text).not.toContain(plain)
    expect(envSecretValues(env)).toEqual(expect.arrayContaining([stored, plain]))
  })
})

describe('AWS region and endpoints', () => {
  it('take AWS_REGION, then AWS_DEFAULT_REGION, then the region of an ARN', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:app-AbCdEf'
    expect(awsRegion({ AWS_REGION: 'us-east-2', AWS_DEFAULT_REGION: 'us-west-1' }, arn)).toBe(
      'us-east-2'
    )
    expect(awsRegion({ AWS_DEFAULT_REGION: 'us-west-1' }, arn)).toBe('us-west-1')
    expect(awsRegion({}, arn)).toBe('eu-west-2')
    expect(awsRegion({}, 'plain/name')).toBeUndefined()
  })

  it('take the service variable, then AWS_ENDPOINT_URL, then AWS', () => {
    const env = {
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'https://vpce-sm.example.test',
      AWS_ENDPOINT_URL_SSM: 'https://vpce-ssm.example.test',
    }
    expect(awsEndpoint(env, 'secretsmanager', 'eu-west-2')).toBe('https://vpce-sm.example.test')
    expect(awsEndpoint(env, 'ssm', 'eu-west-2')).toBe('https://vpce-ssm.example.test')
    expect(awsEndpoint({ AWS_ENDPOINT_URL: env.AWS_ENDPOINT_URL }, 'ssm', 'eu-west-2')).toBe(
      'http://127.0.0.1:4566'
    )
    expect(awsEndpoint({}, 'secretsmanager', 'eu-west-2')).toBe(
      'https://secretsmanager.eu-west-2.amazonaws.com'
    )
    expect(awsEndpoint({}, 'ssm', 'eu-west-2')).toBe('https://ssm.eu-west-2.amazonaws.com')
  })
})

describe('store fetch metric and variables', () => {
  let t: TestMetrics
  beforeEach(() => {
    resetTelemetryState()
    t = installTestMetrics()
  })
  afterEach(async () => {
    await t.shutdown()
  })

  it('counts fetches by store and outcome, through the hook the app passes', async () => {
    const sources = new StoreSources({ timeoutMs: 200 })
    sources.observe(recordStoreFetch)
    sources.observe(recordStoreFetch) // added once: nothing is counted twice
    const binding = { get: async () => 'secrets-store-value-for-test' }
    const failing = {
      get: async () => {
        throw new Error('unavailable')
      },
    }
    await sources.overlay({ ANTHROPIC_API_KEY: binding, FYERS_ACCESS_TOKEN: failing })
    const points = await t.points(METRICS.storeFetches.name)
    const count = (outcome: string) =>
      points
        .filter(
          (p) =>
            p.attributes['keyline.store'] === 'secrets-store' && p.attributes.outcome === outcome
        )
        .reduce((sum, p) => sum + (p.value as number), 0)
    expect(count('success')).toBe(1)
    expect(count('failure')).toBe(1)
  })

  it('every admin token variable may come from a store', () => {
    for (const name of ADMIN_TOKEN_VARIABLES) expect(STORE_BACKED_VARIABLES.has(name)).toBe(true)
    expect(STORE_BACKED_VARIABLES.get('ANTHROPIC_API_KEY')).toBe('ANTHROPIC_API_KEY_NEW')
    expect(STORE_BACKED_VARIABLES.get('FYERS_ACCESS_TOKEN')).toBe('FYERS_ACCESS_TOKEN_NEW')
  })
})
