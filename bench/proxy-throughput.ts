/**
 * Benchmark 1, proxy throughput: keyline's Node entry (`node src/entries/node.ts`, default
 * `LOG_LEVEL=info`, logs to a file) against a bare Hono pass-through proxy and Portkey's
 * gateway, all in front of the same Anthropic stub, loaded by the same autocannon at 16 and
 * 64 connections. Rounds alternate between the targets, so a burst of noise hits them alike.
 */

import { generateStubKeys } from '../test/stubs/index.ts'
import { type LoadResult, pool, runLoad } from './support/load.ts'
import type { Service } from './support/processes.ts'
import { clientHeaders, messagesBody } from './support/requests.ts'
import {
  portkeyHeaders,
  startBareProxy,
  startKeyline,
  startPortkey,
  startStubProcess,
} from './support/services.ts'
import { fmt } from './support/stats.ts'
import { type BenchContext, latencyRatio, type Row, ratio, verdict } from './support/table.ts'
import { randomToken } from './support/tokens.ts'

/** Connection counts measured. */
export const CONNECTIONS = [16, 64] as const

interface Target {
  name: string
  service: Service
  url: string
  headers: Record<string, string>
  runs: Map<number, LoadResult[]>
}

const target = (name: string, service: Service, headers: Record<string, string>): Target => ({
  name,
  service,
  url: `${service.url}/v1/messages`,
  headers,
  runs: new Map(),
})

/** One request, to see a target answers 200 before loading it; the failure, if any. */
const probe = async (t: Target, body: string): Promise<string | undefined> => {
  try {
    const res = await fetch(t.url, { method: 'POST', headers: t.headers, body })
    const text = await res.text()
    return res.status === 200 ? undefined : `answers HTTP ${res.status}: ${text.slice(0, 120)}`
  } catch (error) {
    return String(error)
  }
}

/** Starts Portkey in front of `upstream`; the reason instead when it cannot be used. */
const portkeyTarget = async (
  ctx: BenchContext,
  upstream: string,
  apiKey: string,
  body: string
): Promise<Target | string> => {
  ctx.progress('starting Portkey (npx -y @portkey-ai/gateway; the first run downloads it)')
  let service: Service
  try {
    service = await startPortkey({ dir: ctx.dir })
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    return `skipped: cannot start (${reason.split('\n')[0]})`
  }
  const t = target('Portkey', service, {
    'content-type': 'application/json',
    'anthropic-version': '2023-06-01',
    ...portkeyHeaders(upstream, apiKey),
  })
  const failed = await probe(t, body)
  if (!failed) return t
  await service.stop()
  return `skipped: ${failed}`
}

/** The rows comparing keyline with `c` at `connections`. */
const compare = (keyline: Target, c: Target, connections: number, targets: boolean): Row[] => {
  const k = pool(keyline.runs.get(connections) ?? [])
  const o = pool(c.runs.get(connections) ?? [])
  const row = (measurement: string, a: number, b: number, r: string, target = '—'): Row => ({
    bench: 1,
    measurement: `${measurement}, ${connections} conns`,
    keyline: fmt(a),
    comparator: `${c.name} ${fmt(b)}`,
    ratio: r,
    target,
  })
  return [
    row(
      'throughput (req/s)',
      k.rps,
      o.rps,
      ratio(k.rps, o.rps),
      targets ? verdict('≥ 0.85×', k.rps >= 0.85 * o.rps) : '—'
    ),
    row('p50 latency (ms)', k.p50, o.p50, latencyRatio(k.p50, o.p50)),
    row(
      'p99 latency (ms)',
      k.p99,
      o.p99,
      latencyRatio(k.p99, o.p99),
      targets ? verdict('≤ +2 ms', k.p99 - o.p99 <= 2) : '—'
    ),
  ]
}

/** Runs benchmark 1. */
export const proxyThroughput = async (ctx: BenchContext): Promise<Row[]> => {
  const apiKey = generateStubKeys().anthropic.apiKey
  const clientToken = randomToken('bench-client')
  const body = messagesBody()
  const services: Service[] = []
  try {
    ctx.progress('throughput: starting the stub, keyline and the bare proxy')
    const stub = await startStubProcess({ dir: ctx.dir, apiKey })
    services.push(stub)
    const upstream = { dir: ctx.dir, upstream: stub.url, apiKey }
    const keyline = target(
      'keyline',
      await startKeyline({ ...upstream, clientToken }),
      clientHeaders(clientToken)
    )
    services.push(keyline.service)
    const bare = target('bare Hono', await startBareProxy(upstream), clientHeaders(clientToken))
    services.push(bare.service)
    const portkey = ctx.quick
      ? 'skipped in quick mode'
      : await portkeyTarget(ctx, stub.url, apiKey, body)
    if (typeof portkey !== 'string') services.push(portkey.service)
    const targets = typeof portkey === 'string' ? [keyline, bare] : [keyline, bare, portkey]
    ctx.progress(`throughput: ${targets.map((t) => t.name).join(', ')} ready`)
    for (const t of targets) {
      const failed = await probe(t, body)
      if (failed) throw new Error(`${t.name} ${failed}`)
    }

    const rounds = ctx.quick ? 1 : 4
    const load = (t: Target, connections: number, seconds: number) =>
      runLoad({
        url: t.url,
        headers: t.headers,
        body,
        connections,
        ...(ctx.quick ? { amount: 100 } : { seconds }),
      })
    if (!ctx.quick) {
      ctx.progress('throughput: warming up every target (4 s each)')
      for (const t of targets) await load(t, 16, 4)
    }
    for (const connections of CONNECTIONS) {
      for (const t of targets) {
        t.runs.set(connections, [])
        if (!ctx.quick) await load(t, connections, 1)
      }
      for (let round = 1; round <= rounds; round++) {
        ctx.progress(`throughput: ${connections} connections, round ${round}/${rounds}`)
        for (const t of targets) t.runs.get(connections)?.push(await load(t, connections, 3))
      }
      for (const t of targets) {
        const p = pool(t.runs.get(connections) ?? [])
        if (p.failures > 0 || p.responses === 0) {
          throw new Error(`${t.name}: ${p.failures} of ${p.responses} responses failed`)
        }
      }
    }

    return CONNECTIONS.flatMap((connections) => [
      ...compare(keyline, bare, connections, connections === 16),
      ...(typeof portkey === 'string'
        ? [
            {
              bench: 1,
              measurement: `throughput and latency, ${connections} conns`,
              keyline: '—',
              comparator: `Portkey ${portkey}`,
              ratio: '—',
              target: '—',
            },
          ]
        : compare(keyline, portkey, connections, false)),
    ])
  } finally {
    ctx.progress('throughput: stopping the servers')
    await Promise.all(services.map((s) => s.stop()))
  }
}
