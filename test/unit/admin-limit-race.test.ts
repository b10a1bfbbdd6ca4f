import { describe, expect, it } from 'vitest'
import { FailureLimiter } from '../../src/admin/failure-limiter.ts'
import { adminHarness, generatedEnv, randomValue } from './admin-harness.ts'

const count = (statuses: number[]): Record<number, number> => {
  const counts: Record<number, number> = {}
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1
  return counts
}

describe('admin failure limit under parallel guesses', () => {
  it('gives 200 parallel wrong guesses from one address no more than the limit of verdicts', async () => {
    const { request, lines } = adminHarness({ rateLimit: { maxFailures: 10, windowMs: 60_000 } })
    const env = generatedEnv()
    const statuses = await Promise.all(
      Array.from({ length: 200 }, () =>
        request('/admin/keys/status', env, {
          token: randomValue('guess-', 32),
          headers: { 'cf-connecting-ip': '192.0.2.50' },
        }).then((res) => res.status)
      )
    )
    expect(count(statuses)).toEqual({ 401: 10, 429: 190 })
    expect(lines.filter((l) => l.msg === 'admin authentication failed')).toHaveLength(10)
    // the window is spent: even the right token waits it out
    const after = await request('/admin/keys/status', env, {
      token: env.ADMIN_TOKEN,
      headers: { 'cf-connecting-ip': '192.0.2.50' },
    })
    expect(after.status).toBe(429)
  })

  it('never refuses parallel requests that carry the right token', async () => {
    const { request } = adminHarness({ rateLimit: { maxFailures: 3, windowMs: 60_000 } })
    const env = generatedEnv()
    const statuses = await Promise.all(
      Array.from({ length: 30 }, () =>
        request('/admin/keys/status', env, {
          token: env.ADMIN_TOKEN,
          headers: { 'cf-connecting-ip': '192.0.2.51' },
        }).then((res) => res.status)
      )
    )
    expect(count(statuses)).toEqual({ 200: 30 })
  })

  it('counts an attempt before it is judged, and forgets the failures of a success', () => {
    const limiter = new FailureLimiter({ maxFailures: 2, windowMs: 10_000 })
    expect(limiter.attempt('a', 0)).toBeUndefined()
    expect(limiter.attempt('a', 1)).toBeUndefined()
    // two attempts in flight, none judged yet: a third is refused until the window ends
    expect(limiter.attempt('a', 2)).toBe(10)
    expect(limiter.attempt('b', 2)).toBeUndefined()
    limiter.succeed('a')
    expect(limiter.attempt('a', 3)).toBeUndefined()
    expect(limiter.attempt('a', 4)).toBeUndefined()
    expect(limiter.attempt('a', 9_500)).toBe(1)
    expect(limiter.attempt('a', 10_003)).toBeUndefined()
  })
})
