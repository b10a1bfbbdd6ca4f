/**
 * Benchmark 2, streaming: a ~1 MiB streamed Messages reply (about 8 300 token-sized
 * `content_block_delta` events, from `servers/sse-upstream.ts`, which writes faster than
 * either proxy relays) through keyline's Node entry and through the bare Hono proxy: time to
 * the first byte of the body, and bytes per second over the whole stream, one stream at a
 * time, alternating between the two; the upstream's own speed, read directly, is shown too.
 */
import { Agent, request } from 'node:http'
import type { Service } from './support/processes.ts'
import { clientHeaders, messagesBody } from './support/requests.ts'
import { startBareProxy, startKeyline, startSseUpstream } from './support/services.ts'
import { fmt, median } from './support/stats.ts'
import { type BenchContext, latencyRatio, type Row, ratio, verdict } from './support/table.ts'
import { fixedKeys } from './support/tokens.ts'

/** Size of the streamed reply: 1 MiB, or 64 KiB in quick mode. */
export const sseBytes = (quick: boolean): number => (quick ? 64 : 1024) * 1024

/**
 * One relayed stream: milliseconds to the first body byte and to the end, its size, and in how
 * many reads the client took it.
 */
export interface StreamTiming {
  ttfbMs: number
  totalMs: number
  bytes: number
  reads: number
}

/** Streams one reply through `url`, checking it is a complete SSE stream. */
export const stream = (
  url: string,
  headers: Record<string, string>,
  body: string,
  agent: Agent
): Promise<StreamTiming> =>
  new Promise((resolve, reject) => {
    const started = performance.now()
    let first = 0
    let bytes = 0
    let reads = 0
    let tail = ''
    const req = request(url, { method: 'POST', headers, agent }, (res) => {
      if (res.statusCode !== 200) {
        res.resume()
        reject(new Error(`${url}: HTTP ${res.statusCode}`))
        return
      }
      res.on('data', (chunk: Buffer) => {
        if (!first) first = performance.now()
        bytes += chunk.length
        reads++
        tail = (tail + chunk.toString('latin1')).slice(-200)
      })
      res.on('end', () => {
        if (!tail.includes('message_stop')) {
          reject(new Error(`${url}: the stream ended without message_stop`))
          return
        }
        const end = performance.now()
        resolve({ ttfbMs: first - started, totalMs: end - started, bytes, reads })
      })
      res.on('error', reject)
    })
    req.setTimeout(30_000, () => req.destroy(new Error(`${url}: no progress for 30 s`)))
    req.on('error', reject)
    req.end(body)
  })

/** Runs benchmark 2. */
export const sseRelay = async (ctx: BenchContext): Promise<Row[]> => {
  const { apiKey, clientToken } = fixedKeys()
  const services: Service[] = []
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  try {
    const sse = await startSseUpstream({ dir: ctx.dir, apiKey, bytes: sseBytes(ctx.quick) })
    services.push(sse)
    const upstream = { dir: ctx.dir, upstream: sse.url, apiKey }
    const keyline = await startKeyline({ ...upstream, clientToken })
    services.push(keyline)
    const bare = await startBareProxy(upstream)
    services.push(bare)
    const targets = [
      { name: 'keyline', url: keyline.url, headers: clientHeaders(clientToken) },
      { name: 'bare Hono', url: bare.url, headers: clientHeaders(clientToken) },
      {
        name: 'upstream read directly',
        url: sse.url,
        headers: { ...clientHeaders(clientToken), 'x-api-key': apiKey },
      },
    ]
    const body = messagesBody(true)
    const runs = ctx.quick ? 2 : 16
    const warmup = ctx.quick ? 0 : 3
    const timings = new Map<string, StreamTiming[]>(targets.map((t) => [t.name, []]))
    for (let i = 0; i < warmup + runs; i++) {
      if (i % 4 === 0) ctx.progress(`sse: stream ${i + 1}/${warmup + runs} through each`)
      for (const t of targets) {
        const timing = await stream(`${t.url}/v1/messages`, t.headers, body, agent)
        if (i >= warmup) timings.get(t.name)?.push(timing)
      }
    }
    const summary = (name: string) => {
      const list = timings.get(name) ?? []
      return {
        ttfb: median(list.map((t) => t.ttfbMs)),
        mibPerSecond: median(list.map((t) => t.bytes / 1024 / 1024 / (t.totalMs / 1000))),
        bytes: median(list.map((t) => t.bytes)),
      }
    }
    const k = summary('keyline')
    const b = summary('bare Hono')
    const d = summary('upstream read directly')
    const size = `${fmt(k.bytes / 1024)} KiB`
    return [
      {
        bench: 2,
        measurement: `SSE time to first byte (ms, median of ${runs})`,
        keyline: fmt(k.ttfb),
        comparator: `bare Hono ${fmt(b.ttfb)}`,
        ratio: latencyRatio(k.ttfb, b.ttfb),
        target: '—',
      },
      {
        bench: 2,
        measurement: `SSE relay, ${size} stream (MiB/s, median)`,
        keyline: fmt(k.mibPerSecond),
        comparator: `bare Hono ${fmt(b.mibPerSecond)}`,
        ratio: ratio(k.mibPerSecond, b.mibPerSecond),
        target: verdict('≥ 0.9×', k.mibPerSecond >= 0.9 * b.mibPerSecond),
      },
      {
        bench: 2,
        measurement: `SSE relay, ${size} stream (MiB/s, median)`,
        keyline: fmt(k.mibPerSecond),
        comparator: `upstream read directly ${fmt(d.mibPerSecond)}`,
        ratio: ratio(k.mibPerSecond, d.mibPerSecond),
        target: '—',
      },
    ]
  } finally {
    agent.destroy()
    await Promise.all(services.map((s) => s.stop()))
  }
}
