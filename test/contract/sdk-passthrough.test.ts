import Anthropic, { toFile } from '@anthropic-ai/sdk'
import { describe, expect, it } from 'vitest'
import { DEFAULT_REPLY } from '../stubs/anthropic.ts'
import type { StubControl } from '../stubs/control.ts'
import { anthropicSessions } from './harness/anthropic-sessions.ts'
import { describeRuntimes, type RuntimeContext } from './harness/describe-runtimes.ts'

const CLIENT_TOKEN = `kl-test-${crypto.randomUUID()}`
const MODEL = 'claude-sonnet-5-5'
const FILES_BETA = 'files-api-2025-04-14'
const stubs = anthropicSessions(`sdk-tests=${CLIENT_TOKEN}`)

/** The real SDK pointed at keyline, with the client token as its API key (as the README says). */
const sdk = (ctx: RuntimeContext): Anthropic =>
  new Anthropic({ baseURL: ctx.url, apiKey: CLIENT_TOKEN, maxRetries: 0 })

/** Bytes no text codec leaves alone: every byte value, invalid UTF-8 included. */
const binary = (): Uint8Array => {
  const bytes = new Uint8Array(70_000)
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 8)) & 0xff
  return bytes
}

/**
 * The whole Anthropic API through keyline with the real `@anthropic-ai/sdk`: messages (whole
 * and streamed), token counts, message batches (create, list, get, cancel, JSONL results) and
 * files (multipart upload, list, get, download, delete), against the stub upstream, on every
 * runtime. The upstream sees keyline's key, never the client token.
 */
describeRuntimes(
  'the Anthropic SDK through keyline',
  (ctx) => {
    const session = (): StubControl => stubs.session(ctx.runtime)
    const key = () => stubs.keys().anthropic.apiKey

    /** Every request the upstream saw carried keyline's key and none of the client's token. */
    const upstreamSawOnlyTheKey = async () => {
      const seen = await session().requests()
      expect(seen.length).toBeGreaterThan(0)
      for (const request of seen) {
        expect(request.headers['x-api-key']).toBe(key())
        expect(JSON.stringify(request.headers)).not.toContain(CLIENT_TOKEN)
      }
    }

    it('messages.create', async () => {
      const message = await sdk(ctx).messages.create({
        model: MODEL,
        max_tokens: 32,
        messages: [{ role: 'user', content: 'hello' }],
      })
      expect(message.content[0]).toMatchObject({ type: 'text', text: DEFAULT_REPLY })
      await upstreamSawOnlyTheKey()
    })

    it('messages.stream', async () => {
      const stream = sdk(ctx).messages.stream({
        model: MODEL,
        max_tokens: 32,
        messages: [{ role: 'user', content: 'hello' }],
      })
      const deltas: string[] = []
      stream.on('text', (text) => deltas.push(text))
      const final = await stream.finalMessage()
      expect(deltas.length).toBeGreaterThan(1)
      expect(deltas.join('')).toBe(DEFAULT_REPLY)
      expect(final.stop_reason).toBe('end_turn')
    })

    it('messages.countTokens', async () => {
      const counted = await sdk(ctx).messages.countTokens({
        model: MODEL,
        messages: [{ role: 'user', content: 'count these tokens please' }],
      })
      expect(counted.input_tokens).toBeGreaterThan(0)
      const [seen] = (await session().requests()).filter((r) => r.path.endsWith('/count_tokens'))
      expect(seen?.method).toBe('POST')
    })

    it('a count_tokens body keyline knows to be wrong is refused before the upstream', async () => {
      await session().reset()
      await expect(
        sdk(ctx).messages.countTokens({ model: MODEL, messages: [] })
      ).rejects.toMatchObject({ status: 400 })
      expect(await session().requests()).toHaveLength(0)
    })

    it('message batches: create, list, get, results (JSONL), cancel, delete', async () => {
      const client = sdk(ctx)
      const requests = ['first', 'second', 'third'].map((id) => ({
        custom_id: id,
        params: {
          model: MODEL,
          max_tokens: 16,
          messages: [{ role: 'user' as const, content: `hello ${id}` }],
        },
      }))
      const created = await client.messages.batches.create({ requests })
      expect(created).toMatchObject({ type: 'message_batch', processing_status: 'in_progress' })

      const listed = []
      for await (const batch of client.messages.batches.list({ limit: 10 })) listed.push(batch.id)
      expect(listed).toContain(created.id)

      const got = await client.messages.batches.retrieve(created.id)
      expect(got.processing_status).toBe('ended')
      // The upstream's absolute results URL is rewritten to keyline's own.
      expect(got.results_url).toBe(`${ctx.url}/v1/messages/batches/${created.id}/results`)

      const results = []
      for await (const line of await client.messages.batches.results(created.id)) {
        results.push(line)
      }
      expect(results.map((r) => r.custom_id)).toEqual(['first', 'second', 'third'])
      expect(results[0]?.result).toMatchObject({
        type: 'succeeded',
        message: { content: [{ type: 'text', text: DEFAULT_REPLY }] },
      })

      const other = await client.messages.batches.create({ requests: requests.slice(0, 1) })
      const canceling = await client.messages.batches.cancel(other.id)
      expect(canceling.processing_status).toBe('canceling')
      const deleted = await client.messages.batches.delete(created.id)
      expect(deleted).toEqual({ id: created.id, type: 'message_batch_deleted' })
      await upstreamSawOnlyTheKey()
    })

    it('files (beta): upload (multipart), list, get, download, delete', async () => {
      const client = sdk(ctx)
      const bytes = binary()
      const uploaded = await client.beta.files.upload({
        file: await toFile(bytes, 'data.bin', { type: 'application/octet-stream' }),
        betas: [FILES_BETA],
      })
      expect(uploaded).toMatchObject({
        type: 'file',
        filename: 'data.bin',
        size_bytes: bytes.length,
      })
      const [upload] = (await session().requests()).filter(
        (r) => r.method === 'POST' && r.path === '/v1/files'
      )
      expect(upload?.headers['anthropic-beta']).toBe(FILES_BETA)
      expect(upload?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/)

      const listed = []
      for await (const file of client.beta.files.list({ betas: [FILES_BETA] })) {
        listed.push(file.id)
      }
      expect(listed).toContain(uploaded.id)
      const meta = await client.beta.files.retrieveMetadata(uploaded.id, { betas: [FILES_BETA] })
      expect(meta.size_bytes).toBe(bytes.length)

      const download = await client.beta.files.download(uploaded.id, { betas: [FILES_BETA] })
      expect(download.headers.get('content-type')).toBe('application/octet-stream')
      expect(new Uint8Array(await download.arrayBuffer())).toEqual(bytes)

      const deleted = await client.beta.files.delete(uploaded.id, { betas: [FILES_BETA] })
      expect(deleted).toMatchObject({ id: uploaded.id, type: 'file_deleted' })
      await expect(
        client.beta.files.retrieveMetadata(uploaded.id, { betas: [FILES_BETA] })
      ).rejects.toMatchObject({ status: 404 })
      await upstreamSawOnlyTheKey()
    })

    it('files (GA): upload and download through the same passthrough', async () => {
      const client = sdk(ctx)
      const text = 'plain text, uploaded\n'.repeat(100)
      const uploaded = await client.files.upload({
        file: await toFile(new TextEncoder().encode(text), 'notes.txt', { type: 'text/plain' }),
      })
      const download = await client.files.download(uploaded.id)
      expect(await download.text()).toBe(text)
    })

    it("the access line names the client token's name, never the token", async () => {
      await sdk(ctx).models.list()
      // A JSON line on Node and Deno; wrangler prints the logged object over several lines.
      const named = /route["']?: ?["']\/v1\/models["'][^}]*client["']?: ?["']sdk-tests["']/
      await expect.poll(() => ctx.server.output(), { timeout: 5000 }).toMatch(named)
      expect(ctx.server.output()).not.toContain(CLIENT_TOKEN)
    })

    describe('any other /v1/ path', () => {
      it('is forwarded as it came, with the key, and the answer relayed', async () => {
        await session().reset()
        const res = await ctx.fetch('/v1/something/new?x=1', {
          headers: { authorization: `Bearer ${CLIENT_TOKEN}` },
        })
        expect(res.status).toBe(404)
        expect(((await res.json()) as { error: { type: string } }).error.type).toBe(
          'not_found_error'
        )
        const [seen] = await session().requests()
        expect(seen).toMatchObject({ method: 'GET', path: '/v1/something/new', search: '?x=1' })
        expect(seen?.headers['x-api-key']).toBe(key())
      })

      it('needs a client token like every /v1/ route', async () => {
        await session().reset()
        const res = await ctx.fetch('/v1/files', { method: 'GET' })
        expect(res.status).toBe(401)
        expect(await session().requests()).toHaveLength(0)
      })
    })
  },
  { bindings: stubs.bindings }
)
