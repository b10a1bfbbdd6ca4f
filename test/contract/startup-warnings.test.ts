import { afterAll, beforeAll, expect, it } from 'vitest'
import { type StartedAwsStub, startAwsStub } from '../stubs/aws.ts'
import { awsStubControl } from '../stubs/aws-control.ts'
import { randomSecret } from '../support/secret-pieces.ts'
import { describeRuntimes } from './harness/describe-runtimes.ts'

/**
 * Issue 22, item 2, on the entries that have a start (node, deno): a JSON secret read whole
 * (`KEYLINE_CLIENT_TOKENS_AWS_SECRET=<id>#clients` unquoted in a `.env` file loses `#clients`)
 * is a start-up warning naming `NAME_AWS_SECRET_FIELD`, the proxy stays closed (never two
 * wrong "unnamed" tokens), and no value shows in the output. Item 9: the output is JSON lines only.
 */
let awsStub: StartedAwsStub
const tokens = new Map<string, string[]>()

beforeAll(async () => {
  awsStub = await startAwsStub()
})
afterAll(async () => {
  await awsStub?.close()
})

describeRuntimes(
  'start-up warnings',
  (ctx) => {
    it('a JSON secret read whole is a start-up warning naming NAME_AWS_SECRET_FIELD', async () => {
      let line: Record<string, unknown> | undefined
      for (let i = 0; i < 100 && !line; i++) {
        line = ctx.server
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((l) => l.level === 'warn' && l.variable === 'KEYLINE_CLIENT_TOKENS')
        if (!line) await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(line?.reason).toBe('store_unavailable')
      expect(String(line?.msg)).toContain('KEYLINE_CLIENT_TOKENS_AWS_SECRET_FIELD=<field>')
      expect(String(line?.msg)).toContain('fields: clients')
      const [first = '', second = ''] = tokens.get(ctx.runtime) ?? []
      const denied = await ctx.fetch('/v1/models', {
        headers: { authorization: `Bearer ${first}` },
      })
      expect(denied.status).toBe(401)
      await denied.body?.cancel()
      for (const token of [first, second]) {
        expect(ctx.server.output()).not.toContain(token.slice(0, 12))
      }
    })

    it('the log is JSON lines only, after requests too (no Deno request.signal warning)', async () => {
      for (const path of ['/healthz', '/v1/models', '/nowhere']) {
        const res = await ctx.fetch(path)
        await res.body?.cancel()
      }
      await new Promise((resolve) => setTimeout(resolve, 300))
      const lines = ctx.server
        .output()
        .split('\n')
        .filter((l) => l.trim() !== '')
      expect(lines.length).toBeGreaterThan(3)
      for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow()
    })
  },
  {
    runtimes: ['node', 'deno'],
    bindings: async ({ runtime }) => {
      const aws = await awsStubControl(awsStub.url).session()
      const id = `keyline/${runtime}/${crypto.randomUUID()}`
      const pair = [randomSecret('kl-'), randomSecret('kl-')]
      tokens.set(runtime, pair)
      await aws.putSecret(id, JSON.stringify({ clients: pair.join(','), note: 'x' }))
      return {
        KEYLINE_CLIENT_TOKENS_AWS_SECRET: id,
        AWS_REGION: awsStub.region,
        AWS_ENDPOINT_URL: aws.url,
        AWS_ACCESS_KEY_ID: awsStub.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: awsStub.credentials.secretAccessKey,
      }
    },
  }
)
