import { describe, expect, it } from 'vitest'
import { RotationEvents, UNAUTHENTICATED } from '../../src/admin/events.ts'
import { MESSAGE, proxyFixture } from './fixture.ts'

/**
 * A failover during a proxied call is a rotation event (who: `system`), shown by
 * `GET /admin/events` with the fingerprints only.
 */
it('a failover to the next key is recorded as a system event', async () => {
  const admin = `admin-token-${crypto.randomUUID()}`
  const next = `sk-ant-test-${crypto.randomUUID()}`
  const f = await proxyFixture({ ADMIN_TOKEN: admin, ANTHROPIC_API_KEY_NEW: next })
  const current = f.env.ANTHROPIC_API_KEY as string
  await f.anthropic.keys({ accept: [next], revoke: [current] })
  const res = await f.messages(MESSAGE)
  expect(res.status).toBe(200)
  await res.arrayBuffer()
  const events = await f.call('/admin/events', { headers: { authorization: `Bearer ${admin}` } })
  expect(events.status).toBe(200)
  const text = await events.text()
  const [event] = JSON.parse(text).events
  expect(event).toMatchObject({
    who: 'system',
    action: 'failover',
    provider: 'anthropic',
    result: 'ok',
    detail: `apiKey from: …${current.slice(-4)}, to: …${next.slice(-4)}`,
  })
  expect(text).not.toContain(current.slice(-5))
  expect(text).not.toContain(next.slice(-5))
})

/**
 * Issue 21, item 5: `GET /admin/fyers/callback` takes no bearer (a browser arrives from Fyers),
 * and each rejected one was an event: 500 of them, from `<img>` tags on any page, pushed every
 * real event out of the log. They are now counted, one line a minute, on their own budget.
 */
describe('rejected unauthenticated callbacks (issue 21 item 5)', () => {
  const setup = async (options: { now?: () => number; unauthenticatedLimit?: number } = {}) => {
    const admin = `admin-token-${crypto.randomUUID()}`
    const events = new RotationEvents({
      now: options.now,
      unauthenticatedLimit: options.unauthenticatedLimit,
    })
    const f = await proxyFixture({ ADMIN_TOKEN: admin }, { admin: { events } })
    const bearer = { authorization: `Bearer ${admin}` }
    const list = async () => {
      const res = await f.call('/admin/events?limit=100', { headers: bearer })
      expect(res.status).toBe(200)
      return (await res.json()).events as { who: string; action: string; detail: string }[]
    }
    const forged = (n: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          f.call(`/admin/fyers/callback?auth_code=x${i}&state=forged${i}`, {
            headers: { authorization: '', accept: 'text/html' },
          })
        )
      )
    const reload = () => f.call('/admin/keys/reload', { method: 'POST', headers: bearer })
    return { f, list, forged, reload }
  }

  it('520 forged callbacks leave the admin events in place and read as one counted line', async () => {
    const { list, forged, reload } = await setup()
    expect((await reload()).status).toBe(200)
    const answers = await forged(520)
    expect(answers.every((r) => r.status >= 400 && r.status < 500)).toBe(true)
    const events = await list()
    expect(events.filter((e) => e.action === 'reload')).toHaveLength(1)
    const lines = events.filter((e) => e.who === UNAUTHENTICATED)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ action: 'fyers-sign-in', result: 'rejected' })
    expect(lines[0]?.detail).toMatch(/^520 rejected callbacks/)
    expect(events).toHaveLength(2)
  })

  it('one line per minute, on a budget of its own that never evicts admin events', async () => {
    let now = Date.UTC(2026, 0, 1)
    const { list, forged, reload } = await setup({ now: () => now, unauthenticatedLimit: 3 })
    expect((await reload()).status).toBe(200)
    for (let minute = 0; minute < 5; minute++) {
      await forged(3 + minute)
      now += 60_000
    }
    const events = await list()
    const lines = events.filter((e) => e.who === UNAUTHENTICATED)
    // The three newest minutes are kept, each with its own count; the reload is still there.
    expect(lines.map((e) => Number.parseInt(e.detail, 10))).toEqual([7, 6, 5])
    expect(events.filter((e) => e.action === 'reload')).toHaveLength(1)
  })
})
