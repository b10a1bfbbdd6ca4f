/**
 * The Anthropic stub of `test/stubs` as a process of its own, so the load benchmarks' upstream
 * does not share the load generator's event loop: accepts the key `BENCH_API_KEY`, listens on
 * 127.0.0.1:`BENCH_PORT`. With `BENCH_SSE_BYTES` set, a streamed reply is about that many bytes
 * of SSE (its text split into ~16-character deltas, as token-sized as real ones).
 */
import { DEFAULT_REPLY, startAnthropicStub } from '../../test/stubs/index.ts'

/** Bytes of one `content_block_delta` event around its text. */
const EVENT_OVERHEAD = 110
const WORD = 16

const replyOf = (bytes: number): string => {
  if (!(bytes > 0)) return DEFAULT_REPLY
  const words = Math.ceil(bytes / (EVENT_OVERHEAD + WORD))
  return Array.from(
    { length: words },
    (_, i) => `tok${i.toString(36).padStart(WORD - 4, '0')} `
  ).join('')
}

const stub = await startAnthropicStub({
  apiKeys: [process.env.BENCH_API_KEY ?? ''],
  port: Number(process.env.BENCH_PORT),
  reply: replyOf(Number(process.env.BENCH_SSE_BYTES ?? 0)),
})
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => stub.close().then(() => process.exit(0)))
}
