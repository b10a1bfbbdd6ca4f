/**
 * Benchmark 1's wire load, read by the servers' CPU time rather than by throughput alone: on a
 * shared machine, throughput and p99 move with what else runs, while the CPU a server spends per
 * request moves much less. `node bench/wire-cpu.ts [--rounds 3] [--seconds 4] [--connections 16]
 * [--before <dir>]` starts the stub, keyline's Node entry and the bare Hono proxy (and, with
 * `--before`, keyline's Node entry from another checkout, e.g. a `git archive` of an older
 * commit with this `node_modules`), loads them in alternating rounds with the same autocannon,
 * and prints per target: req/s, p50, p99 and server CPU µs per request (user + system from
 * `/proc/<pid>/stat`; Linux only), each beside bare Hono's from the same rounds.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { generateStubKeys } from '../test/stubs/index.ts'
import { freePort } from '../test/support/free-port.ts'
import { type LoadResult, pool, runLoad } from './support/load.ts'
import { baseEnv, cpuMicros, type Service, startService, stopAll } from './support/processes.ts'
import { clientHeaders, messagesBody } from './support/requests.ts'
import { startBareProxy, startKeyline, startStubProcess } from './support/services.ts'
import { fmt, median } from './support/stats.ts'
import { randomToken } from './support/tokens.ts'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '4' },
    connections: { type: 'string', default: '16' },
    before: { type: 'string' },
  },
})
const rounds = Number(values.rounds)
const seconds = Number(values.seconds)
const connections = Number(values.connections)

interface Target {
  name: string
  service: Service
  runs: LoadResult[]
  cpuPerRequest: number[]
}

const dir = mkdtempSync(join(tmpdir(), 'keyline-wire-cpu-'))
const apiKey = generateStubKeys().anthropic.apiKey
const clientToken = randomToken('bench-client')
const body = messagesBody()
const headers = clientHeaders(clientToken)
try {
  const stub = await startStubProcess({ dir, apiKey })
  const upstream = { dir, upstream: stub.url, apiKey }
  const targets: Target[] = [
    {
      name: 'keyline',
      service: await startKeyline({ ...upstream, clientToken }),
      runs: [],
      cpuPerRequest: [],
    },
    { name: 'bare Hono', service: await startBareProxy(upstream), runs: [], cpuPerRequest: [] },
  ]
  if (values.before) {
    const port = await freePort()
    const service = await startService({
      name: 'keyline (before)',
      command: process.execPath,
      args: ['src/entries/node.ts'],
      cwd: values.before,
      env: {
        ...baseEnv(),
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'info',
        KEYLINE_CLIENT_TOKENS: clientToken,
        ANTHROPIC_API_KEY: apiKey,
        ANTHROPIC_BASE_URL: stub.url,
      },
      port,
      logFile: join(dir, `keyline-before-${port}.log`),
      readyPath: '/healthz',
    })
    targets.push({ name: 'keyline (before)', service, runs: [], cpuPerRequest: [] })
  }
  const url = (t: Target) => `${t.service.url}/v1/messages`
  for (const t of targets) {
    // Warm-up, and a check that it answers 200.
    const warm = await runLoad({ url: url(t), headers, body, connections, seconds: 1 })
    if (warm.non2xx + warm.errors > 0) throw new Error(`${t.name} failed its warm-up requests`)
  }
  for (let round = 1; round <= rounds; round++) {
    for (const t of targets) {
      const before = cpuMicros(t.service.pid)
      const run = await runLoad({ url: url(t), headers, body, connections, seconds })
      const used = cpuMicros(t.service.pid) - before
      t.runs.push(run)
      t.cpuPerRequest.push(used / Math.max(1, run.responses))
    }
  }
  const bare = targets[1] as Target
  const b = pool(bare.runs)
  const bareCpu = median(bare.cpuPerRequest)
  console.log(`c=${connections}, ${rounds} rounds of ${seconds} s, alternating`)
  for (const t of targets) {
    const p = pool(t.runs)
    const cpu = median(t.cpuPerRequest)
    console.log(
      `${t.name.padEnd(17)} ${fmt(p.rps)} req/s (${(p.rps / b.rps).toFixed(2)}×), p50 ${fmt(p.p50)} ms, p99 ${fmt(p.p99)} ms (${p.p99 - b.p99 >= 0 ? '+' : ''}${(p.p99 - b.p99).toFixed(1)} ms), CPU ${fmt(cpu)} µs/request (${(cpu / bareCpu).toFixed(2)}×), failures ${p.failures}`
    )
  }
} finally {
  await stopAll()
}
