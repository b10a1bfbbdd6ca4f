import { FYERS_AUTH_CODES, FYERS_RATE_LIMIT_CODES } from '../../src/catalog/fyers.ts'
import { ATTR } from '../../src/telemetry/attributes.ts'
import { PROM, prometheusLabelName } from '../../src/telemetry/prometheus-names.ts'
import {
  ALERT_THRESHOLDS,
  durationSeconds,
  type PromDuration,
} from '../../src/telemetry/thresholds.ts'
import type { AlertSpec, TestScenario } from './alert-spec.ts'

/** Fyers' authentication and rate-limit codes, as the runbooks list them (`-8/-15/-16/-17`). */
const AUTH_CODES = FYERS_AUTH_CODES.join('/')
const RATE_LIMIT_CODES = FYERS_RATE_LIMIT_CODES.join('/')

/**
 * Thresholds and windows the alerts are built from: {@link ALERT_THRESHOLDS}, or another set of
 * the same shape (e.g. with every duration scaled down by {@link scaleAlertTimings}).
 */
export type AlertThresholds = {
  readonly [K in keyof typeof ALERT_THRESHOLDS]: (typeof ALERT_THRESHOLDS)[K] extends string
    ? PromDuration
    : number
}

const L = {
  provider: prometheusLabelName(ATTR.provider),
  operation: prometheusLabelName(ATTR.operation),
  genAiOperation: prometheusLabelName(ATTR.genAiOperationName),
  errorType: prometheusLabelName(ATTR.errorType),
  fyersCode: prometheusLabelName(ATTR.fyersErrorCode),
  outcome: prometheusLabelName(ATTR.outcome),
  store: prometheusLabelName(ATTR.store),
  client: prometheusLabelName(ATTR.clientName),
} as const

const minutes = (duration: Parameters<typeof durationSeconds>[0]): number =>
  durationSeconds(duration) / 60

const range = <T = number>(length: number, at: (i: number) => T): T[] =>
  Array.from({ length }, (_, i) => at(i))

const selector = (name: string, labels: Record<string, string>): string =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`

/**
 * Scenarios of a consecutive-failures alert: a streak that stops one short of the threshold
 * never fires; a streak that reaches it fires once `for` has passed and resolves on a success.
 */
const streakScenarios = (
  T: AlertThresholds,
  provider: string,
  operation: string
): TestScenario[] => {
  const n = T.consecutiveFailures
  const hold = minutes(T.consecutiveFailuresFor)
  const labels = { [L.provider]: provider, [L.operation]: operation }
  const series = (values: number[]) => [
    { series: selector(PROM.consecutiveFailures, { ...labels, instance: 'keyline-1' }), values },
  ]
  const reachedAt = n - 1
  const firesAt = reachedAt + hold
  const resetAt = n + hold + 2
  return [
    {
      title: `${n - 1} failures in a row, held for a long time: never fires`,
      series: series([...range(n - 1, (i) => i + 1), ...range(hold + 10, () => n - 1)]),
      expect: range(n + hold + 9, (i) => ({ atMinute: i, firing: [] })),
    },
    {
      title: `${n} failures in a row: pending at ${reachedAt}m, firing after ${T.consecutiveFailuresFor}, resolved by a success`,
      series: series([
        ...range(n, (i) => i + 1),
        ...range(hold + 2, () => n),
        ...range(3, () => 0),
      ]),
      expect: [
        { atMinute: reachedAt - 1, firing: [] },
        { atMinute: reachedAt, firing: [] },
        ...(hold > 1 ? [{ atMinute: firesAt - 1, firing: [] }] : []),
        { atMinute: firesAt, firing: [labels] },
        { atMinute: resetAt - 1, firing: [labels] },
        { atMinute: resetAt, firing: [] },
      ],
    },
  ]
}

/**
 * Scenarios of an alert on the increase of a zero-initialised counter over `window`: fires on
 * the evaluation that sees the first increase, resolves once the window has passed it.
 */
const increaseScenario = (
  title: string,
  series: string,
  window: Parameters<typeof durationSeconds>[0],
  firing: Record<string, string>,
  others: TestScenario['series'] = []
): TestScenario => {
  const w = minutes(window)
  const at = 3
  return {
    title,
    series: [{ series, values: [...range(at, () => 0), ...range(w + 5, () => 1)] }, ...others],
    expect: [
      { atMinute: at - 1, firing: [] },
      { atMinute: at, firing: [firing] },
      { atMinute: at + w - 1, firing: [firing] },
      { atMinute: at + w, firing: [] },
    ],
  }
}

/**
 * Scenarios of a failure-ratio alert: a ratio at the threshold never fires, nor does a high
 * ratio on too little traffic; a ratio well above it fires after `for`, and resolves once the
 * failures stop and the window has passed.
 */
const ratioScenarios = (
  T: AlertThresholds,
  requests: string,
  failures: string,
  firing: Record<string, string>
): TestScenario[] => {
  const w = minutes(T.failureRatioWindow)
  const hold = minutes(T.failureRatioFor)
  const perMinute = T.failureRatioMinRequests
  const atThreshold = perMinute * T.failureRatio
  const length = 3 * w + hold + 10
  const start = w
  const stop = 2 * w + hold
  // The ratio over the window first exceeds the threshold here, and drops back to it at resolvedAt.
  const firesAt = start + Math.floor(T.failureRatio * w) + 1 + hold
  const resolvedAt = stop + w - Math.floor(T.failureRatio * w)
  return [
    {
      title: `exactly ${T.failureRatio * 100}% failures at ${perMinute} calls a minute: never fires`,
      series: [
        { series: requests, values: range(length, (i) => i * perMinute) },
        { series: failures, values: range(length, (i) => i * atThreshold) },
      ],
      expect: range(length, (i) => ({ atMinute: i, firing: [] })).filter(
        (e) => e.atMinute % 5 === 0
      ),
    },
    {
      title: `every call fails but fewer than ${T.failureRatioMinRequests} calls per ${T.failureRatioWindow}: never fires`,
      series: [
        { series: requests, values: range(length, (i) => Math.floor(i / (w / 2))) },
        { series: failures, values: range(length, (i) => Math.floor(i / (w / 2))) },
      ],
      expect: range(length, (i) => ({ atMinute: i, firing: [] })).filter(
        (e) => e.atMinute % 5 === 0
      ),
    },
    {
      title: `all calls fail from ${start}m to ${stop}m: fires at ${firesAt}m, resolves at ${resolvedAt}m`,
      series: [
        { series: requests, values: range(length, (i) => i * perMinute) },
        {
          series: failures,
          values: range(length, (i) => (Math.min(Math.max(i, start), stop) - start) * perMinute),
        },
      ],
      expect: [
        { atMinute: start, firing: [] },
        { atMinute: firesAt - 1, firing: [] },
        { atMinute: firesAt, firing: [firing] },
        { atMinute: stop, firing: [firing] },
        { atMinute: resolvedAt - 1, firing: [firing] },
        { atMinute: resolvedAt, firing: [] },
      ],
    },
  ]
}

const aiRatio = (T: AlertThresholds, window: string): string => {
  const by = `sum by (${L.genAiOperation})`
  const requests = `${by} (increase(${PROM.aiRequests}[${window}]))`
  return `${by} (increase(${PROM.aiFailures}[${window}])) / ${requests} and ${requests} >= ${T.failureRatioMinRequests}`
}

const fyersRatio = (T: AlertThresholds, window: string): string => {
  const by = `sum by (${L.operation})`
  const requests = `${by} (increase(${PROM.fyersQuoteRequests}[${window}]))`
  return `${by} (increase(${PROM.fyersQuoteFailures}[${window}])) / ${requests} and ${requests} >= ${T.failureRatioMinRequests}`
}

const outcomeSeries = (name: string, outcome: string): string =>
  selector(name, { [L.outcome]: outcome, instance: 'keyline-1' })

/**
 * Every keyline alert, built from `T` (thresholds and windows). Pure. The promtool scenarios
 * step in whole minutes, so they are only meaningful for minute-scale timings like the defaults.
 */
export const alertSpecs = (T: AlertThresholds = ALERT_THRESHOLDS): AlertSpec[] => [
  {
    name: 'KeylineAiConsecutiveFailures',
    uid: 'keyline-ai-consecutive-failures',
    group: 'keyline-anthropic',
    title: `Anthropic: ${T.consecutiveFailures} failures in a row`,
    query: `max by (${L.provider}, ${L.operation}) (${PROM.consecutiveFailures}{${L.provider}="anthropic"})`,
    comparison: '>=',
    threshold: T.consecutiveFailures,
    for: T.consecutiveFailuresFor,
    severity: 'critical',
    noDataState: 'OK',
    summary: `Anthropic {{ $labels.${L.operation} }}: ${T.consecutiveFailures} or more calls in a row failed`,
    description: `The last ${T.consecutiveFailures}+ Anthropic {{ $labels.${L.operation} }} calls of one keyline instance all failed, with no success in between.`,
    runbook:
      'Look at keyline.ai.failures by error.type on the dashboard. authentication_error/permission_error: the key was revoked or lacks access, rotate it (ANTHROPIC_API_KEY_NEW). rate_limit_error/overloaded_error: Anthropic is throttling, check status.anthropic.com and usage limits. timeout/network: check egress from the runtime.',
    scenarios: streakScenarios(T, 'anthropic', 'chat'),
  },
  {
    name: 'KeylineFyersConsecutiveFailures',
    uid: 'keyline-fyers-consecutive-failures',
    group: 'keyline-fyers',
    title: `Fyers: ${T.consecutiveFailures} failures in a row`,
    query: `max by (${L.provider}, ${L.operation}) (${PROM.consecutiveFailures}{${L.provider}="fyers"})`,
    comparison: '>=',
    threshold: T.consecutiveFailures,
    for: T.consecutiveFailuresFor,
    severity: 'critical',
    noDataState: 'OK',
    summary: `Fyers {{ $labels.${L.operation} }}: ${T.consecutiveFailures} or more calls in a row failed`,
    description: `The last ${T.consecutiveFailures}+ Fyers {{ $labels.${L.operation} }} calls of one keyline instance all failed, with no success in between.`,
    runbook: `Look at keyline.fyers.quote.failures by error.type and fyers.error_code. ${AUTH_CODES}: the access token expired, run the token refresh (see KeylineFyersAuthFailures). ${RATE_LIMIT_CODES}: rate limited, lower the request rate. api_error/timeout/network: Fyers or the network is down, check Fyers status.`,
    scenarios: streakScenarios(T, 'fyers', 'quotes'),
  },
  {
    name: 'KeylineFyersAuthFailures',
    uid: 'keyline-fyers-auth-failures',
    group: 'keyline-fyers',
    title: 'Fyers: access token rejected',
    query: `sum(increase(${PROM.fyersQuoteFailures}{${L.errorType}="authentication_error"}[${T.fyersAuthWindow}]))`,
    comparison: '>',
    threshold: 0,
    for: '0m',
    severity: 'critical',
    noDataState: 'OK',
    summary: 'Fyers rejected the access token (expired or invalid)',
    description: `Fyers answered a call with an authentication error (HTTP 401 or codes ${AUTH_CODES}) in the last ${T.fyersAuthWindow}.`,
    runbook:
      'Fyers access tokens expire daily at 06:00 IST; keyline refreshes them (timer, cron, and once on a rejection) when FYERS_APP_SECRET, FYERS_PIN and a refresh token are set. Check the Fyers token part of GET /admin/keys/status: if the last refresh failed, see KeylineFyersTokenRefreshFailing; if refresh is not possible, set what it says is missing, or sign in again with `keyline fyers login`. A hand-made token can still be staged as FYERS_ACCESS_TOKEN_NEW and promoted.',
    scenarios: [
      increaseScenario(
        'one authentication failure (an auth code) fires at once; rate limits do not',
        selector(PROM.fyersQuoteFailures, {
          [L.errorType]: 'authentication_error',
          [L.fyersCode]: String(FYERS_AUTH_CODES[0]),
          instance: 'keyline-1',
        }),
        T.fyersAuthWindow,
        {},
        [
          {
            series: selector(PROM.fyersQuoteFailures, {
              [L.errorType]: 'rate_limit_error',
              [L.fyersCode]: String(FYERS_RATE_LIMIT_CODES[0]),
              instance: 'keyline-1',
            }),
            values: range(20, (i) => i * 3),
          },
        ]
      ),
    ],
  },
  {
    name: 'KeylineKeyFailover',
    uid: 'keyline-key-failover',
    group: 'keyline-secrets',
    title: 'Key failover: rotate now',
    query: `sum by (${L.provider}) (increase(${PROM.keyFailovers}[${T.failoverWindow}]))`,
    comparison: '>',
    threshold: 0,
    for: '0m',
    severity: 'critical',
    noDataState: 'OK',
    summary: `keyline failed over to the next {{ $labels.${L.provider} }} credential: rotate now`,
    description: `The current {{ $labels.${L.provider} }} credential was rejected and keyline switched to the staged next one in the last ${T.failoverWindow}. There is no spare credential left.`,
    runbook:
      'Find out why the old credential was rejected (revoked, leaked, expired). Make the staged *_NEW value the current one (ANTHROPIC_API_KEY or FYERS_ACCESS_TOKEN), create a fresh next credential, stage it as *_NEW, and reload the secrets.',
    scenarios: [
      increaseScenario(
        'one failover fires at once and resolves after the window',
        selector(PROM.keyFailovers, { [L.provider]: 'anthropic', instance: 'keyline-1' }),
        T.failoverWindow,
        { [L.provider]: 'anthropic' }
      ),
    ],
  },
  {
    name: 'KeylineFyersTokenRefreshFailing',
    uid: 'keyline-fyers-token-refresh-failing',
    group: 'keyline-fyers',
    title: 'Fyers: token refresh failing',
    query: `sum(increase(${PROM.fyersTokenRefreshes}{${L.outcome}="failure"}[${T.refreshFailureWindow}])) unless sum(increase(${PROM.fyersTokenRefreshes}{${L.outcome}="success"}[${T.refreshFailureWindow}])) > 0`,
    comparison: '>',
    threshold: 0,
    for: '0m',
    severity: 'critical',
    noDataState: 'OK',
    summary: 'The Fyers access-token refresh job is failing',
    description: `Fyers token refreshes failed in the last ${T.refreshFailureWindow} and none succeeded.`,
    runbook:
      'Read the `fyers access token refresh failed` log lines (their reason is a Fyers code, timeout or network) and the last refresh in GET /admin/keys/status. If the refresh token expired (see KeylineFyersRefreshTokenExpiring) or was revoked, sign in again with `keyline fyers login`. Otherwise check FYERS_CLIENT_ID, FYERS_APP_SECRET, FYERS_PIN and the network, then refresh again with POST /admin/fyers/refresh.',
    scenarios: [
      increaseScenario(
        'a failed refresh with no success fires at once',
        outcomeSeries(PROM.fyersTokenRefreshes, 'failure'),
        T.refreshFailureWindow,
        {},
        [{ series: outcomeSeries(PROM.fyersTokenRefreshes, 'success'), values: range(70, () => 0) }]
      ),
      {
        title: 'a later successful refresh resolves it',
        series: [
          {
            series: outcomeSeries(PROM.fyersTokenRefreshes, 'failure'),
            values: [0, 0, 0, ...range(20, () => 1)],
          },
          {
            series: outcomeSeries(PROM.fyersTokenRefreshes, 'success'),
            values: [...range(10, () => 0), ...range(13, () => 1)],
          },
        ],
        expect: [
          { atMinute: 2, firing: [] },
          { atMinute: 3, firing: [{}] },
          { atMinute: 9, firing: [{}] },
          { atMinute: 10, firing: [] },
        ],
      },
    ],
  },
  {
    name: 'KeylineFyersRefreshTokenExpiring',
    uid: 'keyline-fyers-refresh-token-expiring',
    group: 'keyline-fyers',
    title: 'Fyers: refresh token expires soon',
    query: `min(${PROM.fyersRefreshTokenRemaining})`,
    comparison: '<',
    threshold: T.refreshTokenRemainingS,
    for: '0m',
    severity: 'warning',
    noDataState: 'OK',
    summary: `The Fyers refresh token expires within ${T.refreshTokenRemainingS / 86_400} days`,
    description: `keyline.fyers.refresh_token.remaining is below ${T.refreshTokenRemainingS} s. Once the refresh token expires, access tokens can no longer be refreshed.`,
    runbook:
      'Sign in again with `keyline fyers login` (or POST /admin/fyers/login and open the URL): keyline stores the new refresh token in its vault. Confirm that keyline.fyers.refresh_token.remaining jumps back up (about 15 days).',
    scenarios: [
      {
        title: `counting down past ${T.refreshTokenRemainingS} s fires; a new refresh token resolves it`,
        series: [
          {
            series: selector(PROM.fyersRefreshTokenRemaining, { instance: 'keyline-1' }),
            values: [
              ...range(5, (i) => T.refreshTokenRemainingS + 120 - 60 * i),
              ...range(3, () => 15 * 86_400),
            ],
          },
        ],
        expect: [
          { atMinute: 1, firing: [] },
          { atMinute: 2, firing: [] },
          { atMinute: 3, firing: [{}] },
          { atMinute: 4, firing: [{}] },
          { atMinute: 5, firing: [] },
        ],
      },
    ],
  },
  {
    name: 'KeylineAiHighFailureRatio',
    uid: 'keyline-ai-high-failure-ratio',
    group: 'keyline-anthropic',
    title: `Anthropic: more than ${T.failureRatio * 100}% of calls fail`,
    query: aiRatio(T, T.failureRatioWindow),
    comparison: '>',
    threshold: T.failureRatio,
    for: T.failureRatioFor,
    severity: 'warning',
    noDataState: 'OK',
    summary: `More than ${T.failureRatio * 100}% of Anthropic {{ $labels.${L.genAiOperation} }} calls fail`,
    description: `Over ${T.failureRatioWindow}, more than ${T.failureRatio * 100}% of at least ${T.failureRatioMinRequests} Anthropic {{ $labels.${L.genAiOperation} }} calls failed.`,
    runbook:
      'Open the dashboard and split keyline.ai.failures by error.type. Client errors (invalid_request_error, not_found_error, request_too_large) point at a misbehaving client; rate_limit_error/overloaded_error/api_error at Anthropic; authentication_error at the key (see KeylineKeyFailover).',
    scenarios: ratioScenarios(
      T,
      selector(PROM.aiRequests, {
        [L.genAiOperation]: 'chat',
        gen_ai_provider_name: 'anthropic',
        instance: 'keyline-1',
      }),
      selector(PROM.aiFailures, {
        [L.genAiOperation]: 'chat',
        gen_ai_provider_name: 'anthropic',
        [L.errorType]: 'overloaded_error',
        instance: 'keyline-1',
      }),
      { [L.genAiOperation]: 'chat' }
    ),
  },
  {
    name: 'KeylineFyersHighFailureRatio',
    uid: 'keyline-fyers-high-failure-ratio',
    group: 'keyline-fyers',
    title: `Fyers: more than ${T.failureRatio * 100}% of calls fail`,
    query: fyersRatio(T, T.failureRatioWindow),
    comparison: '>',
    threshold: T.failureRatio,
    for: T.failureRatioFor,
    severity: 'warning',
    noDataState: 'OK',
    summary: `More than ${T.failureRatio * 100}% of Fyers {{ $labels.${L.operation} }} calls fail`,
    description: `Over ${T.failureRatioWindow}, more than ${T.failureRatio * 100}% of at least ${T.failureRatioMinRequests} Fyers {{ $labels.${L.operation} }} calls failed.`,
    runbook:
      'Split keyline.fyers.quote.failures by keyline.operation, error.type and fyers.error_code on the dashboard: authentication_error means the token (see KeylineFyersAuthFailures), rate_limit_error the request rate, invalid_symbol a client, api_error/timeout/network Fyers itself.',
    scenarios: ratioScenarios(
      T,
      selector(PROM.fyersQuoteRequests, { [L.operation]: 'quotes', instance: 'keyline-1' }),
      selector(PROM.fyersQuoteFailures, {
        [L.operation]: 'quotes',
        [L.errorType]: 'api_error',
        instance: 'keyline-1',
      }),
      { [L.operation]: 'quotes' }
    ),
  },
  {
    name: 'KeylineClientQuotaExhausted',
    uid: 'keyline-client-quota-exhausted',
    group: 'keyline-clients',
    title: 'Client refused by its quota for 5 minutes',
    query: `sum by (${L.client}) (increase(${PROM.clientLimited}[${T.clientLimitedWindow}]))`,
    comparison: '>',
    threshold: 0,
    for: T.clientLimitedFor,
    severity: 'warning',
    noDataState: 'OK',
    summary: `keyline client {{ $labels.${L.client} }} has been refused by its quota for ${T.clientLimitedFor}`,
    description: `Requests of client {{ $labels.${L.client} }} have been answered 429 by its quota (KEYLINE_CLIENT_LIMITS) in every ${T.clientLimitedWindow} for ${T.clientLimitedFor} running: it is stuck at its limit, not bursting.`,
    runbook:
      'Open GET /admin/keys/status (or the console): limits.clients.<name>.counts shows which limit is used up and when its window resets. Either the client misbehaves (a retry loop, a runaway job: find it by its client name in the access log) or its quota is too small for its work: raise it in KEYLINE_CLIENT_LIMITS (or its _FILE / store) and POST /admin/keys/reload.',
    scenarios: ((): TestScenario[] => {
      const hold = minutes(T.clientLimitedFor)
      const series = (values: number[]) => [
        {
          series: selector(PROM.clientLimited, {
            [L.client]: 'ci',
            keyline_limit: 'rpm',
            instance: 'keyline-1',
          }),
          values,
        },
      ]
      const start = 3
      const stop = start + hold + 6
      return [
        {
          title: `refused every minute: pending at ${start}m, firing after ${T.clientLimitedFor}, resolved once refusals stop`,
          series: series([
            ...range(start, () => 0),
            ...range(stop - start, (i) => i + 1),
            ...range(minutes(T.clientLimitedWindow) + 5, () => stop - start),
          ]),
          expect: [
            { atMinute: start - 1, firing: [] },
            { atMinute: start + hold - 1, firing: [] },
            { atMinute: start + hold, firing: [{ [L.client]: 'ci' }] },
            { atMinute: stop - 1, firing: [{ [L.client]: 'ci' }] },
            { atMinute: stop + minutes(T.clientLimitedWindow) + 1, firing: [] },
          ],
        },
        {
          title: `refused for ${hold - 2} minutes only (a burst): never fires`,
          series: series([
            ...range(start, () => 0),
            ...range(hold - 2, (i) => i + 1),
            ...range(hold + 5, () => hold - 2),
          ]),
          expect: range(2 * hold + 3, (i) => ({ atMinute: i, firing: [] })),
        },
      ]
    })(),
  },
  {
    name: 'KeylineSecretsReloadFailing',
    uid: 'keyline-secrets-reload-failing',
    group: 'keyline-secrets',
    title: 'Secrets reload failing',
    query: `sum(increase(${PROM.secretsReloads}{${L.outcome}="failure"}[${T.reloadFailureWindow}])) unless sum(increase(${PROM.secretsReloads}{${L.outcome}=~"success|unchanged"}[${T.reloadFailureWindow}])) > 0`,
    comparison: '>',
    threshold: 0,
    for: '0m',
    severity: 'warning',
    noDataState: 'OK',
    summary: 'keyline cannot reload its secrets',
    description: `Secrets reloads failed in the last ${T.reloadFailureWindow} and none succeeded: keyline keeps serving with the secrets it loaded before.`,
    runbook:
      'Check the keyline logs for the reload error (a missing *_FILE, an unreadable secret store, an invalid value). Fix the source and trigger the reload again; a rotation staged in *_NEW is not live until a reload succeeds.',
    scenarios: [
      increaseScenario(
        'a failed reload with no success fires at once',
        outcomeSeries(PROM.secretsReloads, 'failure'),
        T.reloadFailureWindow,
        {},
        [{ series: outcomeSeries(PROM.secretsReloads, 'success'), values: range(40, () => 0) }]
      ),
    ],
  },
  {
    name: 'KeylineSecretStoreServingStale',
    uid: 'keyline-secret-store-serving-stale',
    group: 'keyline-secrets',
    title: 'Secret store failing, cached secrets served',
    query: `sum by (${L.store}) (increase(${PROM.storeFetches}{${L.outcome}="stale"}[${T.storeStaleWindow}])) unless sum by (${L.store}) (increase(${PROM.storeFetches}{${L.outcome}="success"}[${T.storeStaleWindow}])) > 0`,
    comparison: '>=',
    threshold: T.storeStaleFetches,
    for: '0m',
    severity: 'warning',
    noDataState: 'OK',
    summary: 'keyline cannot refresh secrets from {{ $labels.keyline_store }}',
    description: `At least ${T.storeStaleFetches} fetches from {{ $labels.keyline_store }} failed in the last ${T.storeStaleWindow} and none succeeded: keyline serves the values it cached before, and a rotation made in the store does not reach it.`,
    runbook:
      'Open GET /admin/keys/status: the stores list names each store-backed credential, its last error and since when it is stale. Fix the store access (AWS credentials and IAM permissions secretsmanager:GetSecretValue / ssm:GetParameter with kms:Decrypt, the region or endpoint, the secret or parameter name, the Secrets Store binding), then POST /admin/keys/reload. Until then keyline keeps serving the cached values; a restart would lose them.',
    scenarios: [
      {
        title: `a refresh failing every minute, no success: fires once ${T.storeStaleFetches} failed`,
        series: [
          {
            series: selector(PROM.storeFetches, {
              [L.store]: 'aws-sm',
              [L.outcome]: 'stale',
              instance: 'keyline-1',
            }),
            values: [0, 0, 0, ...range(20, (i) => i + 1)],
          },
          {
            series: selector(PROM.storeFetches, {
              [L.store]: 'aws-sm',
              [L.outcome]: 'success',
              instance: 'keyline-1',
            }),
            values: range(23, () => 0),
          },
        ],
        expect: [
          { atMinute: 2, firing: [] },
          { atMinute: 3, firing: [] },
          { atMinute: 3 + T.storeStaleFetches + 1, firing: [{ [L.store]: 'aws-sm' }] },
          { atMinute: 20, firing: [{ [L.store]: 'aws-sm' }] },
        ],
      },
      {
        title: 'failed refreshes with a successful fetch in the window: never fires',
        series: [
          {
            series: selector(PROM.storeFetches, {
              [L.store]: 'aws-ssm',
              [L.outcome]: 'stale',
              instance: 'keyline-1',
            }),
            values: [0, 0, 0, ...range(20, (i) => i + 1)],
          },
          {
            series: selector(PROM.storeFetches, {
              [L.store]: 'aws-ssm',
              [L.outcome]: 'success',
              instance: 'keyline-1',
            }),
            values: [0, 0, ...range(21, () => 1)],
          },
        ],
        expect: range(21, (i) => ({ atMinute: i + 2, firing: [] })),
      },
    ],
  },
]

/** Every keyline alert. Thresholds and windows come from `src/telemetry/thresholds.ts`. */
export const ALERTS: readonly AlertSpec[] = alertSpecs()

/**
 * `thresholds` with every duration multiplied by `factor` and written in whole seconds (at
 * least `1s`); counts and ratios unchanged. For tests that run the real rules against a real
 * Prometheus in seconds instead of minutes, e.g. `scaleAlertTimings(ALERT_THRESHOLDS, 1 / 30)`
 * turns `for: 1m` into `for: 2s` and `[5m]` into `[10s]`.
 */
export const scaleAlertTimings = (thresholds: AlertThresholds, factor: number): AlertThresholds => {
  if (!(Number.isFinite(factor) && factor > 0)) throw new RangeError('factor must be > 0')
  const scaled: Record<string, number | PromDuration> = {}
  for (const [key, value] of Object.entries(thresholds)) {
    scaled[key] =
      typeof value === 'string'
        ? `${Math.max(1, Math.round(durationSeconds(value) * factor))}s`
        : value
  }
  return scaled as AlertThresholds
}
