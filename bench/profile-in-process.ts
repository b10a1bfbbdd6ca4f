/**
 * keyline's in-process loop alone, for a profiler: `node --cpu-prof --cpu-prof-dir=/tmp/prof
 * bench/profile-in-process.ts [--n 20000] [--bare]` sends N sequential `POST /v1/messages` through
 * `createApp()` (or the bare Hono app with `--bare`) with benchmark 3's canned upstream, then
 * prints µs per request (wall and CPU) and bytes allocated per request (support/allocation.ts).
 */
import { parseArgs } from 'node:util'
import { createApp } from '../src/app.ts'
import { bindingsOnly } from '../src/env.ts'
import { generateStubKeys } from '../test/stubs/index.ts'
import { cannedFetch } from './in-process.ts'
import { bytesPerCall } from './support/allocation.ts'
import { bareProxyApp } from './support/bare-proxy-app.ts'
import { clientHeaders, messagesBody } from './support/requests.ts'
import { randomToken } from './support/tokens.ts'

const { values } = parseArgs({
  options: { n: { type: 'string', default: '20000' }, bare: { type: 'boolean', default: false } },
})
const n = Number(values.n)
const UPSTREAM = 'http://127.0.0.1:9'
const apiKey = generateStubKeys().anthropic.apiKey
const clientToken = randomToken('bench-client')
const fetch = cannedFetch()
let logBytes = 0
const app = values.bare
  ? bareProxyApp({ upstream: UPSTREAM, apiKey, fetch })
  : createApp({
      env: bindingsOnly,
      fetch,
      logSink: (record) => {
        logBytes += JSON.stringify(record).length
      },
    })
const bindings = values.bare
  ? undefined
  : {
      KEYLINE_CLIENT_TOKENS: clientToken,
      ANTHROPIC_API_KEY: apiKey,
      ANTHROPIC_BASE_URL: UPSTREAM,
      LOG_LEVEL: 'info',
    }
const headers = clientHeaders(clientToken)
const body = messagesBody()
const call = async (): Promise<void> => {
  const res = await app.request('/v1/messages', { method: 'POST', headers, body }, bindings)
  await res.arrayBuffer()
  if (res.status !== 200) throw new Error(`answered ${res.status}`)
}
for (let i = 0; i < 2000; i++) await call()
const started = performance.now()
const cpuStarted = process.cpuUsage()
for (let i = 0; i < n; i++) await call()
const elapsed = performance.now() - started
// CPU time (user + system) is steadier than wall time on a shared machine.
const cpu = process.cpuUsage(cpuStarted)
const bytes = await bytesPerCall(call, Math.min(n, 5000))
console.log(
  `${values.bare ? 'bare' : 'keyline'}: ${((elapsed * 1000) / n).toFixed(1)} µs/request (CPU ${((cpu.user + cpu.system) / n).toFixed(1)} µs), ${Math.round(bytes)} B allocated/request (n=${n}${values.bare ? '' : `, log ${logBytes} B`})`
)
