/**
 * Rotation under load: `npm run bench:rotation [-- --clients 32 --steady 5 --rotations 5]`.
 *
 * Starts stub upstreams and the real Node server (secrets from `_FILE` files, as a Node
 * operator would rotate them), drives concurrent `POST /v1/messages` traffic through it, first
 * in a steady state, then while the Anthropic key rotates several times through the admin API
 * and the stub revokes each old key at a random moment after the new one is staged. When the
 * revocation comes first, a request meeting the revoked key fails over to the staged one, which
 * keyline then makes current on its own (as documented), so there is nothing left to validate or
 * promote: that rotation counts as promoted by failover. Prints requests, failures, throughput
 * and latency percentiles for both phases (with `--json`, also one JSON line of both, for
 * `bench/index.ts`); exits 1 on any failed client request.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { serveNode } from '../src/entries/node.ts'
import { stubControl } from '../test/stubs/control.ts'
import { clientHeaders, messagesBody } from './support/requests.ts'
import { sleep, summarize } from './support/stats.ts'
import { startStubs } from './support/stubs.ts'
import { randomToken } from './support/tokens.ts'

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '32' },
    steady: { type: 'string', default: '5' },
    rotations: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
})
const clients = Number(values.clients)
const steadySeconds = Number(values.steady)
const rotations = Number(values.rotations)

const dir = mkdtempSync(join(tmpdir(), 'keyline-bench-'))
/**
 * Replaces a secret file at once, as a Kubernetes secret volume does (a write, then a rename):
 * keyline reads files on the thread pool, and a read during a plain rewrite can see it empty.
 */
const replaceFile = (path: string, text: string): void => {
  writeFileSync(`${path}.tmp`, text)
  renameSync(`${path}.tmp`, path)
}
const currentFile = join(dir, 'anthropic-key')
const nextFile = join(dir, 'anthropic-key-next')
const stubs = await startStubs()
const anthropic = stubControl(stubs.anthropic.url)
writeFileSync(currentFile, stubs.keys.anthropic.apiKey)
writeFileSync(nextFile, '')
const clientToken = randomToken('bench-client')
const adminToken = randomToken('bench-admin')
Object.assign(process.env, {
  PORT: '0',
  LOG_LEVEL: 'silent',
  KEYLINE_CLIENT_TOKENS: clientToken,
  ADMIN_TOKEN: adminToken,
  ANTHROPIC_API_KEY_FILE: currentFile,
  ANTHROPIC_API_KEY_NEW_FILE: nextFile,
  ANTHROPIC_BASE_URL: stubs.anthropic.url,
})
const server = await serveNode({ admin: { log: () => {} } })
const body = messagesBody()
const headers = clientHeaders(clientToken)

interface Phase {
  latencies: number[]
  failures: number
  statuses: Map<number, number>
}
const newPhase = (): Phase => ({ latencies: [], failures: 0, statuses: new Map() })
let phase = newPhase()
let running = true

const client = async (): Promise<void> => {
  while (running) {
    const started = performance.now()
    const current = phase
    let status = 0
    try {
      const res = await fetch(`${server.url}/v1/messages`, { method: 'POST', headers, body })
      status = res.status
      await res.arrayBuffer()
    } catch {
      status = 0
    }
    current.latencies.push(performance.now() - started)
    current.statuses.set(status, (current.statuses.get(status) ?? 0) + 1)
    if (status !== 200) current.failures++
  }
}

const adminRequest = (path: string, method = 'POST'): Promise<Response> =>
  fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: method === 'POST' ? JSON.stringify({ provider: 'anthropic' }) : undefined,
  })

const admin = async (path: string, method = 'POST'): Promise<Record<string, unknown>> => {
  const res = await adminRequest(path, method)
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return (await res.json()) as Record<string, unknown>
}

interface AnthropicStatus {
  current?: { fingerprint?: string } | null
  next?: { validity?: string } | null
}

/**
 * Whether `key` is ready to promote (`next`), or already current (`current`): a failover to it
 * made it current before the admin API was asked to.
 */
const nextState = async (key: string): Promise<'next' | 'current' | 'pending'> => {
  const status = (await admin('/admin/keys/status', 'GET')) as {
    providers: { anthropic: AnthropicStatus }
  }
  const { current, next } = status.providers.anthropic
  if (next?.validity === 'valid') return 'next'
  if (!next && current?.fingerprint === `…${key.slice(-4)}`) return 'current'
  return 'pending'
}

/** `POST /admin/keys/promote`; `false` when a failover had promoted the next key already. */
const promote = async (): Promise<boolean> => {
  const res = await adminRequest('/admin/keys/promote')
  const text = await res.text()
  if (res.ok) return true
  if (res.status === 409 && text.includes('next_not_staged')) return false
  throw new Error(`POST /admin/keys/promote: ${res.status} ${text}`)
}

/** A phase's figures: requests, failures, rps, latency percentiles (ms), statuses. */
const figures = (p: Phase, seconds: number) => {
  const { count, p50, p99, max } = summarize(p.latencies)
  return {
    requests: count,
    failures: p.failures,
    rps: count / seconds,
    p50,
    p99,
    max,
    statuses: Object.fromEntries(p.statuses),
  }
}

const report = (name: string, f: ReturnType<typeof figures>): void => {
  console.log(
    `${name.padEnd(16)} requests=${String(f.requests).padStart(6)} failures=${f.failures} ` +
      `rps=${f.rps.toFixed(0).padStart(5)} p50=${f.p50.toFixed(1)}ms ` +
      `p99=${f.p99.toFixed(1)}ms max=${f.max.toFixed(1)}ms statuses=${JSON.stringify(f.statuses)}`
  )
}

console.log(
  `keyline rotation bench: ${clients} clients, ${steadySeconds}s steady, ${rotations} rotations`
)
const workers = Array.from({ length: clients }, client)
await sleep(500)
phase = newPhase()
let started = performance.now()
await sleep(steadySeconds * 1000)
const steady = phase
const steadyTime = (performance.now() - started) / 1000

phase = newPhase()
started = performance.now()
let byFailover = 0
for (let i = 0; i < rotations; i++) {
  const old = readFileSync(currentFile, 'utf8')
  const next = `sk-ant-test-bench-${i}-${crypto.randomUUID()}`
  await anthropic.keys({ accept: [next] })
  replaceFile(nextFile, next)
  const revoke = sleep(Math.random() * 400).then(() => anthropic.keys({ revoke: [old] }))
  await admin('/admin/keys/reload')
  let state = await nextState(next)
  for (let tries = 0; state === 'pending'; tries++) {
    if (tries > 250) throw new Error('the next key never became valid')
    await sleep(20)
    state = await nextState(next)
  }
  if (state === 'current' || !(await promote())) byFailover++
  replaceFile(currentFile, next)
  replaceFile(nextFile, '')
  await admin('/admin/keys/reload')
  await revoke
  await sleep(200)
}
const rotating = phase
const rotatingTime = (performance.now() - started) / 1000
running = false
await Promise.all(workers)

const results = { steady: figures(steady, steadyTime), rotating: figures(rotating, rotatingTime) }
report('steady state', results.steady)
report('during rotation', results.rotating)
console.log(`rotations: ${rotations}, of which promoted by a failover first: ${byFailover}`)
if (values.json) console.log(JSON.stringify({ clients, rotations, byFailover, ...results }))
await server.close()
await stubs.close()
rmSync(dir, { recursive: true, force: true })
process.exit(steady.failures + rotating.failures > 0 ? 1 : 0)
