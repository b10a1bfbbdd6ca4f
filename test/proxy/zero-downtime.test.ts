import { describe, expect, it } from 'vitest'
import type { StubControl } from '../stubs/control.ts'
import { MESSAGE, type ProxyFixture, proxyFixture } from './fixture.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Case {
  provider: 'anthropic' | 'fyers'
  variable: 'ANTHROPIC_API_KEY' | 'FYERS_ACCESS_TOKEN'
  stub: (f: ProxyFixture) => StubControl
  request: (f: ProxyFixture, env: Record<string, string>) => Promise<Response>
}

const cases: Case[] = [
  {
    provider: 'anthropic',
    variable: 'ANTHROPIC_API_KEY',
    stub: (f) => f.anthropic,
    request: (f, env) =>
      f.call(
        '/v1/messages',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(MESSAGE),
        },
        env
      ),
  },
  {
    provider: 'fyers',
    variable: 'FYERS_ACCESS_TOKEN',
    stub: (f) => f.fyers,
    request: (f, env) => f.call('/v1/quotes?symbols=NSE:SBIN-EQ', {}, env),
  },
]

describe.each(cases)(
  'zero-downtime rotation of $provider',
  ({ provider, variable, stub, request }) => {
    it('serves every request while the secret rotates 3 times and old ones are revoked at random moments', async () => {
      const admin = `admin-token-${crypto.randomUUID()}`
      const f = await proxyFixture({ ADMIN_TOKEN: admin })
      const upstream = stub(f)
      const env = { ...f.env }
      const adminCall = (path: string, body?: unknown) =>
        f.call(
          path,
          {
            method: body === undefined ? 'GET' : 'POST',
            headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
          },
          env
        )
      const statuses: number[] = []
      let running = true
      const client = async () => {
        while (running) {
          const res = await request(f, env)
          statuses.push(res.status)
          await res.arrayBuffer()
        }
      }
      const clients = Array.from({ length: 4 }, client)

      for (let rotation = 0; rotation < 3; rotation++) {
        const old = env[variable] as string
        const next = `test-rotated-${rotation}-${crypto.randomUUID()}`
        await upstream.keys({ accept: [next] })
        env[`${variable}_NEW`] = next
        const revoke = sleep(Math.random() * 60).then(() => upstream.keys({ revoke: [old] }))
        expect((await adminCall('/admin/keys/reload', {})).status).toBe(200)
        expect((await adminCall('/admin/keys/promote', { provider })).status).toBe(200)
        await sleep(20)
        env[variable] = next
        delete env[`${variable}_NEW`]
        await revoke
        await sleep(20)
      }
      running = false
      await Promise.all(clients)

      expect(statuses.length).toBeGreaterThan(20)
      expect(statuses.filter((s) => s !== 200)).toEqual([])
      const status = (await (await adminCall('/admin/keys/status')).json()) as {
        providers: Record<string, { current: { fingerprint: string } }>
      }
      expect(status.providers[provider]?.current.fingerprint).toBe(`…${env[variable]?.slice(-4)}`)
    })
  }
)
