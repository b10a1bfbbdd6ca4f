import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALERTS, scaleAlertTimings } from '../../scripts/dashboards/alerts.ts'
import { PATHS } from '../../scripts/dashboards/config.ts'
import { prometheusRuleFile } from '../../scripts/dashboards/generate.ts'
import { ALERT_THRESHOLDS, durationSeconds } from '../../src/telemetry/thresholds.ts'
import { DEFAULT_RETRY_POLICY } from '../../src/upstream/retry-policy.ts'
import { REPO_ROOT } from '../contract/harness/runtimes.ts'
import { type RunningServer, startServer } from '../contract/harness/server.ts'
import { startAnthropicStub } from '../stubs/anthropic.ts'
import { type StubControl, stubControl } from '../stubs/control.ts'
import { generateStubKeys, stubBindings, stubOptionsFor } from '../stubs/fixtures.ts'
import { issueStubToken, startFyersStub } from '../stubs/fyers.ts'
import type { StartedStub } from '../stubs/stub-server.ts'
import type { Fault } from '../stubs/types.ts'
import { freePort } from '../support/free-port.ts'
import {
  type ActiveAlert,
  prometheusVersion,
  type RunningPrometheus,
  sleep,
  startPrometheus,
} from './support/prometheus.ts'

/**
 * The generated alert rules, evaluated by a real Prometheus against the real Node proxy.
 *
 * Stub Anthropic and Fyers upstreams run in-process; `src/entries/node.ts` runs as a child
 * process with the Prometheus scrape endpoint on; `prometheus` (Debian's package, 2.42) scrapes
 * it every second and evaluates the rule file that `scripts/dashboards/` generates, with the
 * same expressions and thresholds as `dashboards/generated/prometheus/keyline-rules.yml` but
 * every window and `for:` scaled down by {@link TIMING_FACTOR} (`1m` → `2s`). Traffic goes
 * through the proxy over HTTP with a client token; the alerts are read from Prometheus' API.
 *
 * Without `prometheus` the suite is skipped with a message, unless `CI` is set: then it fails.
 */

/** Every window and `for:` of the rules is multiplied by this (and rounded to whole seconds). */
const TIMING_FACTOR = 1 / 30
/** Scrape and rule evaluation interval, in seconds. */
const INTERVAL_S = 1
const T = scaleAlertTimings(ALERT_THRESHOLDS, TIMING_FACTOR)
/** Failures in a row that fire the consecutive-failures alerts. */
const N = ALERT_THRESHOLDS.consecutiveFailures
const FOR_MS = durationSeconds(T.consecutiveFailuresFor) * 1000
const AUTH_WINDOW_MS = durationSeconds(T.fyersAuthWindow) * 1000
/** The rule file Prometheus runs. */
const RULES = prometheusRuleFile({ thresholds: T, interval: `${INTERVAL_S}s` })
/**
 * Slack for Prometheus to see a change: a scrape, then an evaluation, each up to one interval
 * late, plus scheduling noise on a busy machine.
 */
const SEE_MS = 2 * INTERVAL_S * 1000 + 3_000
/** How long "does not fire" is watched: past `for`, over several evaluations. */
const QUIET_MS = FOR_MS + 4 * INTERVAL_S * 1000
const UPSTREAM_ATTEMPTS = 1 + DEFAULT_RETRY_POLICY.maxRetries

const CLIENT_TOKEN = `kl-e2e-${crypto.randomUUID()}`
/** A named client with a quota of one request a minute (KEYLINE_CLIENT_LIMITS). */
const QUOTA_TOKEN = `kl-e2e-quota-${crypto.randomUUID()}`
const QUOTA_FOR_MS = durationSeconds(T.clientLimitedFor) * 1000
const QUOTA_WINDOW_MS = durationSeconds(T.clientLimitedWindow) * 1000
const ADMIN_TOKEN = `kl-e2e-admin-${crypto.randomUUID()}`
const MODEL = 'claude-sonnet-4-5'

const version = await prometheusVersion()
const missing = version === undefined
if (missing && !process.env.CI) {
  console.warn(
    'prometheus not found: skipping the end-to-end alert test. Install it (Debian: `apt-get install prometheus`) to run it; under CI a missing prometheus fails the test.'
  )
}

type State = 'inactive' | 'pending' | 'firing'

let anthropicStub: StartedStub | undefined
let fyersStub: StartedStub | undefined
let anthropic: StubControl
let fyers: StubControl
let keyline: RunningServer | undefined
let prometheus: RunningPrometheus | undefined
const timings: Record<string, number> = {}

const prom = (): RunningPrometheus => {
  if (!prometheus) throw new Error('prometheus is not running')
  return prometheus
}

const matches = (alert: ActiveAlert, name: string, labels: Record<string, string>): boolean =>
  alert.labels.alertname === name &&
  Object.entries(labels).every(([key, value]) => alert.labels[key] === value)

/** The state of alert `name` (the instances whose labels include `labels`) right now. */
const alertState = async (name: string, labels: Record<string, string> = {}): Promise<State> => {
  const found = (await prom().alerts()).filter((a) => matches(a, name, labels))
  if (found.some((a) => a.state === 'firing')) return 'firing'
  return found.length > 0 ? 'pending' : 'inactive'
}

/** Polls until alert `name` is in `want`; returns the milliseconds it took and the states seen. */
const waitForAlert = async (
  name: string,
  labels: Record<string, string>,
  want: State,
  timeoutMs: number
): Promise<{ ms: number; seen: State[] }> => {
  const start = performance.now()
  const seen: State[] = []
  for (;;) {
    const state = await alertState(name, labels)
    if (seen.at(-1) !== state) seen.push(state)
    if (state === want) return { ms: Math.round(performance.now() - start), seen }
    if (performance.now() - start > timeoutMs) {
      throw new Error(
        `${name} ${JSON.stringify(labels)} not ${want} after ${timeoutMs} ms (states seen: ${seen.join(' → ')})\nrules: ${JSON.stringify(
          (await prom().rules()).find((r) => r.name === name)
        )}`
      )
    }
    await sleep(100)
  }
}

/** Checks for `ms` that alert `name` stays inactive (neither pending nor firing). */
const expectInactiveFor = async (
  name: string,
  labels: Record<string, string>,
  ms: number
): Promise<void> => {
  const until = performance.now() + ms
  while (performance.now() < until) {
    expect(await alertState(name, labels), `${name} must stay inactive`).toBe('inactive')
    await sleep(200)
  }
}

/** Polls an instant query until its single sample has `value`. */
const waitForValue = async (expr: string, value: number, timeoutMs = SEE_MS): Promise<void> => {
  const start = performance.now()
  let last: number[] = []
  while (performance.now() - start <= timeoutMs) {
    last = (await prom().query(expr)).map((s) => s.value)
    if (last.length === 1 && last[0] === value) return
    await sleep(100)
  }
  throw new Error(`${expr} is not ${value} after ${timeoutMs} ms (last: [${last.join(', ')}])`)
}

const authorized = (path: string, init: RequestInit = {}): Promise<Response> => {
  if (!keyline) throw new Error('keyline is not running')
  return fetch(`${keyline.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${CLIENT_TOKEN}`, ...init.headers },
  })
}

const callAnthropic = (): Promise<Response> =>
  authorized('/v1/messages', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: MODEL,
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hello' }],
    }),
  })

const callFyers = (): Promise<Response> => authorized('/v1/quotes?symbols=NSE:SBIN-EQ')

/** Sends `count` requests one after the other; each must answer `status`. */
const send = async (call: () => Promise<Response>, count: number, status: number) => {
  for (let i = 0; i < count; i++) {
    const response = await call()
    const body = await response.text()
    expect(response.status, body).toBe(status)
  }
}

/** What the consecutive-failures scenario needs of one upstream. */
interface Streak {
  alert: string
  labels: Record<string, string>
  stub: () => StubControl
  call: () => Promise<Response>
  fault: Fault
  /** The proxy's status for a request that failed with {@link fault}. */
  failureStatus: number
  /** Alerts that must stay inactive all along. */
  unrelated?: Array<{ alert: string; labels: Record<string, string> }>
}

/**
 * N - 1 failures in a row: the alert stays inactive past `for`; the Nth: pending, then firing
 * once `for` has passed; the fault cleared, one success: resolved.
 */
const streakScenario = async (s: Streak): Promise<void> => {
  const gauge = `max by (keyline_provider, keyline_operation) (keyline_upstream_consecutive_failures{keyline_provider="${s.labels.keyline_provider}",keyline_operation="${s.labels.keyline_operation}"})`
  const stub = s.stub()
  await stub.reset()
  await stub.mode(s.fault)

  await send(s.call, N - 1, s.failureStatus)
  // Each client request retried the upstream, yet counts as one failure.
  expect(await stub.requests()).toHaveLength((N - 1) * UPSTREAM_ATTEMPTS)
  await waitForValue(gauge, N - 1)
  await expectInactiveFor(s.alert, s.labels, QUIET_MS)

  const nth = performance.now()
  await send(s.call, 1, s.failureStatus)
  await waitForValue(gauge, N)
  const fired = await waitForAlert(s.alert, s.labels, 'firing', FOR_MS + 2 * SEE_MS)
  const firedMs = Math.round(performance.now() - nth)
  // It went through pending and held there for `for` before firing.
  expect(fired.seen).toContain('pending')
  expect(firedMs).toBeGreaterThanOrEqual(FOR_MS)
  const [firing] = (await prom().alerts()).filter((a) => matches(a, s.alert, s.labels))
  expect(firing?.labels).toMatchObject({ severity: 'critical', team: 'keyline', ...s.labels })
  expect(Number(firing?.value)).toBe(N)

  await stub.mode(null)
  const success = performance.now()
  await send(s.call, 1, 200)
  await waitForValue(gauge, 0)
  await waitForAlert(s.alert, s.labels, 'inactive', 2 * SEE_MS)
  const resolvedMs = Math.round(performance.now() - success)

  for (const other of s.unrelated ?? []) {
    expect(await alertState(other.alert, other.labels), `${other.alert} must not fire`).toBe(
      'inactive'
    )
  }
  timings[`${s.alert}: Nth failure → firing`] = firedMs
  timings[`${s.alert}: success → resolved`] = resolvedMs
}

describe.skipIf(missing && !process.env.CI)(
  `Prometheus (${version ?? 'missing'}) evaluates the generated alert rules against the Node proxy`,
  () => {
    beforeAll(async () => {
      if (missing)
        throw new Error('prometheus is required under CI (Debian: apt-get install prometheus)')
      const started = performance.now()
      const generated = generateStubKeys()
      // A refresh token that ends in a day, under the alert's threshold (2 days), as Fyers'
      // JWTs say in their `exp`.
      const keys = {
        ...generated,
        fyers: {
          ...generated.fyers,
          refreshToken: issueStubToken('refresh', generated.fyers.clientId, 86_400),
        },
      }
      const options = stubOptionsFor(keys)
      ;[anthropicStub, fyersStub] = await Promise.all([
        startAnthropicStub(options.anthropic),
        startFyersStub(options.fyers),
      ])
      anthropic = stubControl(anthropicStub.url)
      fyers = stubControl(fyersStub.url)

      const metricsPort = await freePort()
      keyline = await startServer('node', {
        bindings: {
          ...stubBindings(keys, { anthropic: anthropic.url, fyers: fyers.url }, CLIENT_TOKEN),
          FYERS_APP_SECRET: keys.fyers.appSecret,
          FYERS_REFRESH_TOKEN: keys.fyers.refreshToken,
          FYERS_PIN: keys.fyers.pin,
          KEYLINE_CLIENT_TOKENS: `${CLIENT_TOKEN},capped=${QUOTA_TOKEN}`,
          KEYLINE_CLIENT_LIMITS: 'capped:rpm=1',
          ADMIN_TOKEN,
          OTEL_METRICS_EXPORTER: 'prometheus',
          OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
          OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
          OTEL_SERVICE_NAME: 'keyline-e2e',
        },
      })
      const target = `http://127.0.0.1:${metricsPort}/metrics`
      const scrape = await fetch(target).catch((error: unknown) => {
        throw new Error(`keyline's scrape endpoint ${target}: ${error}\n${keyline?.output()}`)
      })
      expect(scrape.status, keyline.output()).toBe(200)
      expect(await scrape.text()).toContain('keyline_fyers_quote_failures_total')

      prometheus = await startPrometheus({
        target,
        rules: RULES,
        intervalS: INTERVAL_S,
      })
      timings['startup (stubs, keyline, prometheus)'] = Math.round(performance.now() - started)
    })

    afterAll(async () => {
      if (Object.keys(timings).length > 0) {
        console.log(
          `prometheus-alerts timings (ms):\n${Object.entries(timings)
            .map(([what, ms]) => `  ${what}: ${ms}`)
            .join('\n')}`
        )
      }
      await Promise.allSettled([
        prometheus?.stop(),
        keyline?.stop(),
        anthropicStub?.close(),
        fyersStub?.close(),
      ])
    })

    it('is installed', () => {
      expect(version, 'prometheus is required under CI').toBeDefined()
    })

    it('runs the generated rules: the committed ones with only the durations scaled down', async () => {
      const anyDuration = (yaml: string) => yaml.replace(/\b\d+[smhd]\b/g, '<duration>')
      const committed = await readFile(join(REPO_ROOT, PATHS.prometheusRules), 'utf8')
      expect(RULES).not.toBe(committed)
      expect(anyDuration(RULES)).toBe(anyDuration(committed))

      const rules = await prom().rules()
      expect(rules.map((r) => r.name).sort()).toEqual(ALERTS.map((a) => a.name).sort())
      const streak = rules.find((r) => r.name === 'KeylineAiConsecutiveFailures')
      expect(streak?.duration).toBe(FOR_MS / 1000)
      expect(streak?.query).toContain(`>= ${N}`)
    })

    it(`Anthropic: ${N - 1} failures in a row do not fire KeylineAiConsecutiveFailures, the ${N}th does, a success resolves it`, async () => {
      await streakScenario({
        alert: 'KeylineAiConsecutiveFailures',
        labels: { keyline_provider: 'anthropic', keyline_operation: 'chat' },
        stub: () => anthropic,
        call: callAnthropic,
        fault: { kind: 'status', status: 529 },
        failureStatus: 529,
        unrelated: [{ alert: 'KeylineFyersConsecutiveFailures', labels: {} }],
      })
    })

    it(`Fyers quotes: ${N - 1} failures in a row do not fire KeylineFyersConsecutiveFailures, the ${N}th does, a success resolves it`, async () => {
      await streakScenario({
        alert: 'KeylineFyersConsecutiveFailures',
        labels: { keyline_provider: 'fyers', keyline_operation: 'quotes' },
        stub: () => fyers,
        call: callFyers,
        fault: { kind: 'status', status: 500 },
        failureStatus: 502,
        // Upstream errors are not authentication failures.
        unrelated: [
          { alert: 'KeylineFyersAuthFailures', labels: {} },
          { alert: 'KeylineAiConsecutiveFailures', labels: {} },
        ],
      })
    })

    const refreshNow = (): Promise<Response> =>
      fetch(`${keyline?.url}/admin/fyers/refresh`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })

    it('Fyers: a failed token refresh fires KeylineFyersTokenRefreshFailing; a successful one resolves it', async () => {
      const alert = 'KeylineFyersTokenRefreshFailing'
      await fyers.reset()
      // No refresh has happened yet (the start token is not a JWT: no timer is due).
      expect(await alertState(alert)).toBe('inactive')
      await fyers.fault({
        kind: 'status',
        status: 401,
        code: -16,
        path: '/api/v3/validate-refresh-token',
      })
      const failed = performance.now()
      const refused = await refreshNow()
      expect(refused.status).toBe(502)
      expect(((await refused.json()) as { error: { type: string } }).error.type).toBe(
        'fyers_refresh_failed'
      )
      await waitForAlert(alert, {}, 'firing', 2 * SEE_MS)
      timings[`${alert}: failed refresh → firing`] = Math.round(performance.now() - failed)

      const retried = performance.now()
      expect((await refreshNow()).status).toBe(200)
      await waitForAlert(alert, {}, 'inactive', 2 * SEE_MS)
      timings[`${alert}: successful refresh → resolved`] = Math.round(performance.now() - retried)
    })

    it('Fyers: one rejected token (HTTP 401, code -16) fires KeylineFyersAuthFailures at once; it resolves once the window has passed', async () => {
      const alert = 'KeylineFyersAuthFailures'
      await fyers.reset()
      expect(await alertState(alert)).toBe('inactive')
      await fyers.mode({ kind: 'status', status: 401, code: -16, path: '/data/quotes' })

      const failed = performance.now()
      const response = await callFyers()
      expect(response.status).toBe(502)
      expect(((await response.json()) as { error: { type: string } }).error.type).toBe(
        'upstream_auth_failed'
      )
      // A 401 is not retried as such: one call, one refresh of the token, one call with the
      // refreshed token (rejected too here).
      expect((await fyers.requests()).map((r) => r.path)).toEqual([
        '/data/quotes',
        '/api/v3/validate-refresh-token',
        '/data/quotes',
      ])
      const fired = await waitForAlert(alert, {}, 'firing', 2 * SEE_MS)
      // `for: 0m`: straight to firing.
      expect(fired.seen).not.toContain('pending')
      const [firing] = (await prom().alerts()).filter((a) => matches(a, alert, {}))
      expect(firing?.labels).toMatchObject({ severity: 'critical', team: 'keyline' })
      timings[`${alert}: failure → firing`] = Math.round(performance.now() - failed)

      await fyers.mode(null)
      await send(callFyers, 1, 200)
      // The success does not end it: increase() over the window still sees the failure.
      expect(await alertState(alert)).toBe('firing')
      await waitForAlert(alert, {}, 'inactive', AUTH_WINDOW_MS + 2 * SEE_MS)
      const resolvedMs = Math.round(performance.now() - failed)
      expect(resolvedMs).toBeGreaterThanOrEqual(AUTH_WINDOW_MS - 2 * INTERVAL_S * 1000)
      timings[`${alert}: failure → resolved (window ${AUTH_WINDOW_MS} ms)`] = resolvedMs
    })

    it('Fyers: a refresh token that ends within 2 days fires KeylineFyersRefreshTokenExpiring; a new one resolves it', async () => {
      const alert = 'KeylineFyersRefreshTokenExpiring'
      // keyline read the refresh token's `exp` (a day ahead) at start.
      await waitForAlert(alert, {}, 'firing', 2 * SEE_MS)
      const [remaining] = await prom().query('min(keyline_fyers_refresh_token_remaining)')
      expect(remaining?.value).toBeGreaterThan(86_400 - 3_600)
      expect(remaining?.value).toBeLessThanOrEqual(86_400)

      // Fyers hands out a new refresh token with the next refresh (15 days).
      await fyers.keys({ rotateRefreshToken: true })
      const renewed = performance.now()
      expect((await refreshNow()).status).toBe(200)
      await waitForAlert(alert, {}, 'inactive', 2 * SEE_MS)
      const [after] = await prom().query('min(keyline_fyers_refresh_token_remaining)')
      expect(after?.value).toBeGreaterThan(14 * 86_400)
      timings[`${alert}: new refresh token → resolved`] = Math.round(performance.now() - renewed)
    })

    it('a client refused by its quota all along fires KeylineClientQuotaExhausted after `for`; it resolves once the refusals stop', async () => {
      const alert = 'KeylineClientQuotaExhausted'
      const labels = { keyline_client_name: 'capped' }
      expect(await alertState(alert, labels)).toBe('inactive')
      const capped = () =>
        fetch(`${keyline?.url}/v1/models`, { headers: { authorization: `Bearer ${QUOTA_TOKEN}` } })
      const statuses: number[] = []
      const started = performance.now()
      let firedMs: number | undefined
      // Refused every half second (one request a minute passes), until the alert fires.
      while (firedMs === undefined && performance.now() - started < QUOTA_FOR_MS + 3 * SEE_MS) {
        const answer = await capped()
        statuses.push(answer.status)
        await answer.body?.cancel()
        if ((await alertState(alert, labels)) === 'firing') firedMs = performance.now() - started
        await sleep(500)
      }
      expect(firedMs, `statuses: ${statuses.join(',')}`).toBeDefined()
      expect(firedMs).toBeGreaterThanOrEqual(QUOTA_FOR_MS - 2 * INTERVAL_S * 1000)
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(statuses.length - 3)
      timings[`${alert}: refused → firing (for ${QUOTA_FOR_MS} ms)`] = Math.round(firedMs ?? 0)
      // The unlimited client is no part of it.
      expect(await alertState(alert, { keyline_client_name: 'unnamed' })).toBe('inactive')
      const stopped = performance.now()
      await waitForAlert(alert, labels, 'inactive', QUOTA_WINDOW_MS + 2 * SEE_MS)
      timings[`${alert}: refusals stop → resolved`] = Math.round(performance.now() - stopped)
    })

    it('every rule evaluated without an error', async () => {
      for (const rule of await prom().rules()) {
        expect(rule.health, `${rule.name}: ${rule.lastError}`).toBe('ok')
      }
    })
  }
)
