/**
 * Benchmark 4, redaction: `JSON.stringify(redactor.redactError(error))` with a redactor that
 * knows two secrets (`createRedactor().withSecrets([...])`, the same in every run:
 * `fixedKeys`), for a clean error (the fast path:
 * no secret, no headers, no cause) and for a heavy one (50 headers, three of them sensitive,
 * and a 10-deep cause chain whose messages carry a secret and a token in a URL). The
 * comparator is `JSON.stringify` of the same error turned into plain data (name, message,
 * stack, own properties, headers as an object, causes) without any redaction: what logging
 * the error costs at the least.
 */
import { Bench } from 'tinybench'
import { createRedactor } from '../src/redact/index.ts'
import { fmt, median } from './support/stats.ts'
import { type BenchContext, type Row, ratio } from './support/table.ts'
import { fixedKeys } from './support/tokens.ts'

/** An error like the upstream client throws: 50 headers and a cause chain `depth` deep. */
export const heavyError = (secret: string, token: string, depth = 10): Error => {
  let cause: Error | undefined
  for (let layer = depth; layer >= 1; layer--) {
    cause = new Error(
      `layer ${layer}: POST https://api.anthropic.com/v1/messages?token=${token} failed with x-api-key ${secret}`,
      cause ? { cause } : undefined
    )
  }
  const headers = new Headers({
    authorization: `Bearer ${token}`,
    'x-api-key': secret,
    cookie: `session=${token}`,
  })
  for (let i = [...headers.keys()].length; i < 50; i++)
    headers.set(`x-bench-header-${i}`, `value-${i}`)
  return Object.assign(new Error('upstream request failed', { cause }), { status: 502, headers })
}

/** The comparator's plain form of an error: no redaction at all. */
export const plainError = (value: unknown): unknown => {
  if (value instanceof Headers) return Object.fromEntries(value)
  if (!(value instanceof Error)) return value
  const out: Record<string, unknown> = {
    name: value.name,
    message: value.message,
    stack: value.stack,
  }
  for (const [key, field] of Object.entries(value)) out[key] = plainError(field)
  if (value.cause !== undefined) out.cause = plainError(value.cause)
  return out
}

/**
 * A streamed Messages reply of `events` text deltas, as SSE bytes in 1 000-byte chunks; with
 * `escaped`, its text holds `\u` escapes (as a JSON writer with `ensure_ascii` writes `ö`).
 */
export const sseChunks = (events: number, escaped: boolean): Uint8Array[] => {
  const words = 'The quick brown fox jumps over the lazy dog while keyline relays an answer'.split(
    ' '
  )
  let text = ''
  for (let i = 0; i < events; i++) {
    const word = words[i % words.length] ?? ''
    const delta = escaped && word === 'fox' ? 'f\\u00f6x' : word
    text += `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"${delta} "}}\n\n`
  }
  const bytes = new TextEncoder().encode(text)
  const chunks: Uint8Array[] = []
  for (let at = 0; at < bytes.length; at += 1000) chunks.push(bytes.slice(at, at + 1000))
  return chunks
}

/** Runs benchmark 4. */
export const redaction = async (ctx: BenchContext): Promise<Row[]> => {
  const { apiKey: secret, clientToken: token } = fixedKeys()
  const redactor = createRedactor().withSecrets([secret, token])
  const cases = {
    'clean error (fast path)': new Error('upstream timed out after 30000 ms'),
    'error with 50 headers and a 10-deep cause chain': heavyError(secret, token),
  }
  // A relayed stream through the body filter, against decoding the same chunks (the least a
  // filter that reads the text does): without any `\u` escape (the hot path), and with them.
  const streams = {
    'a 2 000-event SSE stream (~270 KiB), no \\u escape': sseChunks(2000, false),
    'the same stream with \\u escapes in its text': sseChunks(2000, true),
  }
  const filterAll = (chunks: Uint8Array[]): void => {
    const filter = redactor.bodyFilter()
    for (const chunk of chunks) filter.push(chunk)
    filter.end()
  }
  const decodeAll = (chunks: Uint8Array[]): void => {
    const decoder = new TextDecoder()
    for (const chunk of chunks) decoder.decode(chunk, { stream: true })
    decoder.decode()
  }
  for (const error of Object.values(cases)) {
    const out = JSON.stringify(redactor.redactError(error))
    if (out.includes(secret) || out.includes(token)) throw new Error('the redactor leaked')
  }

  const rounds = ctx.quick ? 1 : 3
  const means = new Map<string, number[]>()
  for (let round = 1; round <= rounds; round++) {
    ctx.progress(`redaction: round ${round}/${rounds}`)
    const bench = new Bench({
      time: ctx.quick ? 30 : 700,
      warmupTime: ctx.quick ? 10 : 200,
      iterations: ctx.quick ? 5 : 64,
      throws: true,
    })
    for (const [name, error] of Object.entries(cases)) {
      bench.add(`keyline ${name}`, () => {
        JSON.stringify(redactor.redactError(error))
      })
      bench.add(`plain ${name}`, () => {
        JSON.stringify(plainError(error))
      })
    }
    for (const [name, chunks] of Object.entries(streams)) {
      bench.add(`keyline ${name}`, () => filterAll(chunks))
      bench.add(`plain ${name}`, () => decodeAll(chunks))
    }
    await bench.run()
    for (const task of bench.tasks) {
      const result = task.result
      if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state}`)
      means.set(task.name, [...(means.get(task.name) ?? []), result.latency.mean * 1000])
    }
  }
  const row = (name: string, measurement: string, comparator: string): Row => {
    const k = median(means.get(`keyline ${name}`) ?? [])
    const p = median(means.get(`plain ${name}`) ?? [])
    return {
      bench: 4,
      measurement,
      keyline: fmt(k),
      comparator: `${comparator} ${fmt(p)}`,
      ratio: ratio(k, p),
      target: '—',
    }
  }
  return [
    ...Object.keys(cases).map((name) =>
      row(name, `redactError, ${name} (µs)`, 'JSON.stringify, unredacted')
    ),
    ...Object.keys(streams).map((name) =>
      row(name, `bodyFilter, ${name} (µs)`, 'TextDecoder.decode of the chunks')
    ),
  ]
}
