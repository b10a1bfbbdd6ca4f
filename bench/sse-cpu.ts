/**
 * Benchmark 2's SSE relay, read by the servers' CPU time: `node bench/sse-cpu.ts [--streams 40]`
 * starts the SSE upstream (a ~1 MiB Messages stream per reply, written faster than either proxy
 * relays it), keyline's Node entry and the bare Hono proxy, streams one reply at a time through
 * each in turn, and prints per target: the median time to the first byte and to the end, the
 * server's CPU milliseconds per stream (user + system from `/proc/<pid>/stat`; Linux only), and
 * how many reads the client took, each beside bare Hono's from the same run. One stream at a
 * time, the relay is bound by the proxy's CPU: what keyline spends beyond bare Hono per MiB is
 * what its throughput loses.
 */
import { mkdtempSync } from 'node:fs'
import { Agent } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { type StreamTiming, sseBytes, stream } from './sse-relay.ts'
import { cpuMicros, type Service, stopAll } from './support/processes.ts'
import { clientHeaders, messagesBody } from './support/requests.ts'
import { startBareProxy, startKeyline, startSseUpstream } from './support/services.ts'
import { fmt, median } from './support/stats.ts'
import { fixedKeys } from './support/tokens.ts'

const { values } = parseArgs({ options: { streams: { type: 'string', default: '40' } } })
const streams = Number(values.streams)

interface Target {
  name: string
  service: Service
  timings: StreamTiming[]
  cpuMs: number[]
}

const dir = mkdtempSync(join(tmpdir(), 'keyline-sse-cpu-'))
const { apiKey, clientToken } = fixedKeys()
const headers = clientHeaders(clientToken)
const body = messagesBody(true)
const agent = new Agent({ keepAlive: true, maxSockets: 1 })
try {
  const sse = await startSseUpstream({ dir, apiKey, bytes: sseBytes(false) })
  const upstream = { dir, upstream: sse.url, apiKey }
  const targets: Target[] = [
    { name: 'keyline', service: await startKeyline({ ...upstream, clientToken }) },
    { name: 'bare Hono', service: await startBareProxy(upstream) },
  ].map((t) => ({ ...t, timings: [], cpuMs: [] }))
  const once = (t: Target) => stream(`${t.service.url}/v1/messages`, headers, body, agent)
  for (let i = 0; i < 5; i++) for (const t of targets) await once(t)
  for (let i = 0; i < streams; i++) {
    for (const t of targets) {
      const before = cpuMicros(t.service.pid)
      t.timings.push(await once(t))
      t.cpuMs.push((cpuMicros(t.service.pid) - before) / 1000)
    }
  }
  const summary = (t: Target) => ({
    ttfb: median(t.timings.map((s) => s.ttfbMs)),
    total: median(t.timings.map((s) => s.totalMs)),
    // A tick is 10 ms: the mean over the run, not the median of one stream's ticks.
    cpu: t.cpuMs.reduce((sum, ms) => sum + ms, 0) / t.cpuMs.length,
    reads: median(t.timings.map((s) => s.reads)),
    mib: median(t.timings.map((s) => s.bytes)) / 1024 / 1024,
  })
  const bare = summary(targets[1] as Target)
  console.log(`${streams} streams of ${fmt(bare.mib * 1024)} KiB through each, one at a time`)
  for (const t of targets) {
    const s = summary(t)
    console.log(
      `${t.name.padEnd(10)} first byte ${fmt(s.ttfb)} ms, whole stream ${fmt(s.total)} ms (${(bare.total / s.total).toFixed(2)}× the throughput), server CPU ${fmt(s.cpu)} ms/stream (${(s.cpu / bare.cpu).toFixed(2)}×), ${s.reads} client reads`
    )
  }
} finally {
  agent.destroy()
  await stopAll()
}
