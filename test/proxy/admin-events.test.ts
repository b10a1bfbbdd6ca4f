import { expect, it } from 'vitest'
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
