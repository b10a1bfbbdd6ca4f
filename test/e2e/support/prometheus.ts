import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from '../../support/free-port.ts'

import { exited, trackGroup } from '../../support/process-group.ts'

const run = promisify(execFile)

/** The `prometheus` binary: `PROMETHEUS_BIN`, else `prometheus` on `PATH` (Debian: /usr/bin). */
export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN || 'prometheus'

/** The first line of `prometheus --version`, or undefined when it is not installed. */
export const prometheusVersion = async (): Promise<string | undefined> => {
  try {
    const { stdout, stderr } = await run(PROMETHEUS_BIN, ['--version'])
    return (stdout || stderr).split('\n')[0]
  } catch {
    return undefined
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** An alert as `GET /api/v1/alerts` lists it (pending or firing; resolved ones are dropped). */
export interface ActiveAlert {
  labels: Record<string, string>
  annotations: Record<string, string>
  state: 'pending' | 'firing'
  activeAt: string
  value: string
}

/** An alerting rule as `GET /api/v1/rules?type=alert` lists it. */
export interface AlertingRule {
  name: string
  query: string
  duration: number
  labels: Record<string, string>
  state: 'inactive' | 'pending' | 'firing'
  health: 'ok' | 'err' | 'unknown'
  lastError?: string
  lastEvaluation: string
  alerts: ActiveAlert[]
}

/** One sample of an instant query: its labels and value. */
export interface Sample {
  metric: Record<string, string>
  value: number
}

/** A Prometheus server running as a child process. */
export interface RunningPrometheus {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** The active (pending and firing) alerts. */
  alerts(): Promise<ActiveAlert[]>
  /** Every alerting rule with its state and health. */
  rules(): Promise<AlertingRule[]>
  /** An instant query. */
  query(expr: string): Promise<Sample[]>
  /** The last 64 KiB Prometheus wrote to stdout and stderr. */
  output(): string
  /** Kills the process group (SIGTERM, then SIGKILL) and removes the temporary directory. */
  stop(): Promise<void>
}

/** Options of {@link startPrometheus}. */
export interface StartPrometheusOptions {
  /** The scrape URL of the target, e.g. `http://127.0.0.1:9464/metrics`. */
  target: string
  /** The rule file's content. */
  rules: string
  /** Scrape and evaluation interval in seconds. @default 1 */
  intervalS?: number
  /** How long to wait for `/-/ready` and a healthy target. @default 30000 */
  startTimeoutMs?: number
}

const OUTPUT_LIMIT = 64 * 1024
const api = async <T>(url: string): Promise<T> => {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) })
  const body = (await response.json()) as { status: string; data: T; error?: string }
  if (body.status !== 'success') throw new Error(`${url}: ${body.error ?? response.status}`)
  return body.data
}

/**
 * Starts `prometheus` on a free loopback port with its own temporary directory (config, rule
 * file, TSDB), scraping `target` and evaluating the rules every `intervalS`, as its own process
 * group; resolves once it is ready and has scraped the target successfully.
 */
export const startPrometheus = async (
  options: StartPrometheusOptions
): Promise<RunningPrometheus> => {
  const interval = `${options.intervalS ?? 1}s`
  const target = new URL(options.target)
  const dir = await mkdtemp(join(tmpdir(), 'keyline-e2e-prometheus-'))
  await writeFile(join(dir, 'rules.yml'), options.rules)
  await writeFile(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  scrape_timeout: ${interval}`,
      `  evaluation_interval: ${interval}`,
      'rule_files:',
      `  - ${JSON.stringify(join(dir, 'rules.yml'))}`,
      'scrape_configs:',
      '  - job_name: keyline',
      `    metrics_path: ${JSON.stringify(target.pathname)}`,
      '    static_configs:',
      `      - targets: [${JSON.stringify(target.host)}]`,
      '',
    ].join('\n')
  )
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`

  const child = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=info',
    ],
    {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? dir },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    }
  )
  const pid = child.pid
  if (pid === undefined) {
    await rm(dir, { recursive: true, force: true })
    throw new Error(`could not spawn ${PROMETHEUS_BIN}`)
  }
  const stopGroup = trackGroup(child as ChildProcess & { pid: number })
  let output = ''
  const onChunk = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT)
  }
  child.stdout?.on('data', onChunk)
  child.stderr?.on('data', onChunk)
  const exit = exited(child)
  let exitedEarly = false
  void exit.then(() => {
    exitedEarly = true
  })

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await stopGroup()
      await rm(dir, { recursive: true, force: true, maxRetries: 3 })
    })()
    return stopping
  }

  const self: RunningPrometheus = {
    url,
    alerts: async () => (await api<{ alerts: ActiveAlert[] }>(`${url}/api/v1/alerts`)).alerts,
    rules: async () => {
      const data = await api<{ groups: Array<{ rules: AlertingRule[] }> }>(
        `${url}/api/v1/rules?type=alert`
      )
      return data.groups.flatMap((g) => g.rules)
    },
    query: async (expr) => {
      const data = await api<{ result: Array<{ metric: Record<string, string>; value: unknown }> }>(
        `${url}/api/v1/query?query=${encodeURIComponent(expr)}`
      )
      return data.result.map((r) => ({
        metric: r.metric,
        value: Number((r.value as [number, string])[1]),
      }))
    },
    output: () => output,
    stop,
  }

  const deadline = performance.now() + (options.startTimeoutMs ?? 30_000)
  let why = 'not ready'
  while (performance.now() < deadline) {
    if (exitedEarly) {
      why = `exited early (code ${child.exitCode}, signal ${child.signalCode})`
      break
    }
    try {
      const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) })
      await ready.body?.cancel()
      if (ready.ok) {
        const targets = await api<{
          activeTargets: Array<{ health: string; lastError: string }>
        }>(`${url}/api/v1/targets?state=active`)
        if (targets.activeTargets.some((t) => t.health === 'up')) return self
        why = `target not up: ${JSON.stringify(targets.activeTargets)}`
      }
    } catch (error) {
      why = error instanceof Error ? error.message : String(error)
    }
    await sleep(200)
  }
  await stop()
  throw new Error(`prometheus did not come up (${why})\n--- output ---\n${output}`)
}
