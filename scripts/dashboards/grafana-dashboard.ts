import { ATTR } from '../../src/telemetry/attributes.ts'
import { PROM, prometheusLabelName } from '../../src/telemetry/prometheus-names.ts'
import { ALERT_THRESHOLDS as T } from '../../src/telemetry/thresholds.ts'

/** The dashboard's data source variable (a Grafana variable, not a JS template). */
const DS = { type: 'prometheus', uid: ['$', '{datasource}'].join('') } as const
const RATE = '$__rate_interval'

const l = (attribute: string): string => prometheusLabelName(attribute)

/** One PromQL target of a panel. */
interface Target {
  expr: string
  legend: string
}

/** A panel as the generator describes it before layout. */
interface PanelSpec {
  title: string
  description: string
  type: 'timeseries' | 'stat'
  unit: string
  targets: readonly Target[]
  /** A red threshold line/colour at this value. */
  threshold?: { value: number; below?: boolean }
  width?: number
}

const quantiles = (bucket: string, by = ''): Target[] =>
  [0.5, 0.9, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (rate(${bucket}_bucket[${RATE}])))`,
    legend: `p${q * 100}${by ? ` {{${by}}}` : ''}`,
  }))

const rows: ReadonlyArray<{ title: string; panels: readonly PanelSpec[] }> = [
  {
    title: 'Anthropic',
    panels: [
      {
        title: 'AI requests by operation',
        description: 'keyline.ai.requests per second.',
        type: 'timeseries',
        unit: 'reqps',
        targets: [
          {
            expr: `sum by (${l(ATTR.genAiOperationName)}, ${l(ATTR.genAiRequestModel)}) (rate(${PROM.aiRequests}[${RATE}]))`,
            legend: `{{${l(ATTR.genAiOperationName)}}} {{${l(ATTR.genAiRequestModel)}}}`,
          },
        ],
      },
      {
        title: 'AI failures by error.type',
        description: 'keyline.ai.failures per second, split by error.type.',
        type: 'timeseries',
        unit: 'reqps',
        targets: [
          {
            expr: `sum by (${l(ATTR.errorType)}) (rate(${PROM.aiFailures}[${RATE}]))`,
            legend: `{{${l(ATTR.errorType)}}}`,
          },
        ],
      },
      {
        title: 'AI failure ratio',
        description: `Failed share of AI calls; the ${T.failureRatio * 100}% line is the alert threshold.`,
        type: 'timeseries',
        unit: 'percentunit',
        threshold: { value: T.failureRatio },
        targets: [
          {
            expr: `sum by (${l(ATTR.genAiOperationName)}) (rate(${PROM.aiFailures}[${RATE}])) / sum by (${l(ATTR.genAiOperationName)}) (rate(${PROM.aiRequests}[${RATE}]))`,
            legend: `{{${l(ATTR.genAiOperationName)}}}`,
          },
        ],
      },
      {
        title: 'AI latency percentiles',
        description: 'gen_ai.client.operation.duration p50/p90/p99.',
        type: 'timeseries',
        unit: 's',
        targets: quantiles(PROM.aiOperationDuration),
      },
      {
        title: 'Tokens per second',
        description: 'gen_ai.client.token.usage, input and output.',
        type: 'timeseries',
        unit: 'short',
        targets: [
          {
            expr: `sum by (${l(ATTR.genAiTokenType)}) (rate(${PROM.aiTokenUsage}_sum[${RATE}]))`,
            legend: `{{${l(ATTR.genAiTokenType)}}}`,
          },
          {
            expr: `sum(rate(${PROM.aiTokenUsage}_count[${RATE}]))`,
            legend: 'usage records/s',
          },
        ],
      },
    ],
  },
  {
    title: 'Client quotas',
    panels: [
      {
        title: 'Requests and refusals of limited clients',
        description:
          'keyline.client.requests and keyline.client.limited (by limit) per second, per client with a quota (KEYLINE_CLIENT_LIMITS).',
        type: 'timeseries',
        unit: 'reqps',
        targets: [
          {
            expr: `sum by (${l(ATTR.clientName)}) (rate(${PROM.clientRequests}[${RATE}]))`,
            legend: `{{${l(ATTR.clientName)}}} requests`,
          },
          {
            expr: `sum by (${l(ATTR.clientName)}, ${l(ATTR.limit)}) (rate(${PROM.clientLimited}[${RATE}]))`,
            legend: `{{${l(ATTR.clientName)}}} refused ({{${l(ATTR.limit)}}})`,
          },
        ],
      },
      {
        title: 'Tokens charged per client',
        description:
          'keyline.client.tokens per second: input + output tokens charged to token quotas.',
        type: 'timeseries',
        unit: 'short',
        targets: [
          {
            expr: `sum by (${l(ATTR.clientName)}) (rate(${PROM.clientTokens}[${RATE}]))`,
            legend: `{{${l(ATTR.clientName)}}}`,
          },
        ],
      },
      {
        title: 'Quota store unavailable',
        description:
          'keyline.client.limits.unavailable: quota checks the counter store (Redis, the Durable Object) did not answer within 50 ms.',
        type: 'timeseries',
        unit: 'reqps',
        targets: [
          {
            expr: `sum(rate(${PROM.clientLimitsUnavailable}[${RATE}]))`,
            legend: 'unanswered checks',
          },
        ],
      },
    ],
  },
  {
    title: 'Fyers',
    panels: [
      {
        title: 'Fyers requests and failures by operation',
        description: 'keyline.fyers.quote.requests and .failures per second, by keyline.operation.',
        type: 'timeseries',
        unit: 'reqps',
        targets: [
          {
            expr: `sum by (${l(ATTR.operation)}) (rate(${PROM.fyersQuoteRequests}[${RATE}]))`,
            legend: `{{${l(ATTR.operation)}}} requests`,
          },
          {
            expr: `sum by (${l(ATTR.operation)}) (rate(${PROM.fyersQuoteFailures}[${RATE}]))`,
            legend: `{{${l(ATTR.operation)}}} failures`,
          },
        ],
      },
      {
        title: 'Fyers failures by error.type and Fyers code',
        description: 'keyline.fyers.quote.failures per second.',
        type: 'timeseries',
        unit: 'reqps',
        targets: [
          {
            expr: `sum by (${l(ATTR.errorType)}, ${l(ATTR.fyersErrorCode)}) (rate(${PROM.fyersQuoteFailures}[${RATE}]))`,
            legend: `{{${l(ATTR.errorType)}}} {{${l(ATTR.fyersErrorCode)}}}`,
          },
        ],
      },
      {
        title: 'Fyers latency percentiles',
        description: 'http.client.request.duration p50/p90/p99 of Fyers calls.',
        type: 'timeseries',
        unit: 's',
        targets: quantiles(PROM.fyersHttpDuration),
      },
      {
        title: 'Fyers HTTP status',
        description: 'http.client.request.duration count by status.',
        type: 'timeseries',
        unit: 'reqps',
        targets: [
          {
            expr: `sum by (${l(ATTR.httpResponseStatusCode)}) (rate(${PROM.fyersHttpDuration}_count[${RATE}]))`,
            legend: `{{${l(ATTR.httpResponseStatusCode)}}}`,
          },
        ],
      },
    ],
  },
  {
    title: 'Health and credentials',
    panels: [
      {
        title: 'Consecutive failures',
        description: `keyline.upstream.consecutive_failures per provider and operation; the alert fires at ${T.consecutiveFailures}.`,
        type: 'timeseries',
        unit: 'short',
        threshold: { value: T.consecutiveFailures },
        targets: [
          {
            expr: `max by (${l(ATTR.provider)}, ${l(ATTR.operation)}) (${PROM.consecutiveFailures})`,
            legend: `{{${l(ATTR.provider)}}} {{${l(ATTR.operation)}}}`,
          },
        ],
      },
      {
        title: 'Key failovers',
        description: 'keyline.key.failovers in the selected range: any failover means rotate now.',
        type: 'stat',
        unit: 'short',
        threshold: { value: 1 },
        width: 6,
        targets: [
          {
            expr: `sum by (${l(ATTR.provider)}) (increase(${PROM.keyFailovers}[$__range]))`,
            legend: `{{${l(ATTR.provider)}}}`,
          },
        ],
      },
      {
        title: 'Fyers refresh token remaining',
        description: `keyline.fyers.refresh_token.remaining; red below ${T.refreshTokenRemainingS / 86_400} days.`,
        type: 'stat',
        unit: 's',
        threshold: { value: T.refreshTokenRemainingS, below: true },
        width: 6,
        targets: [{ expr: `min(${PROM.fyersRefreshTokenRemaining})`, legend: 'remaining' }],
      },
      {
        title: 'Token refreshes by outcome',
        description: 'keyline.fyers.token.refreshes in the selected range.',
        type: 'stat',
        unit: 'short',
        width: 6,
        targets: [
          {
            expr: `sum by (${l(ATTR.outcome)}) (increase(${PROM.fyersTokenRefreshes}[$__range]))`,
            legend: `{{${l(ATTR.outcome)}}}`,
          },
        ],
      },
      {
        title: 'Secrets reloads by outcome',
        description: 'keyline.secrets.reloads in the selected range.',
        type: 'stat',
        unit: 'short',
        width: 6,
        targets: [
          {
            expr: `sum by (${l(ATTR.outcome)}) (increase(${PROM.secretsReloads}[$__range]))`,
            legend: `{{${l(ATTR.outcome)}}}`,
          },
        ],
      },
      {
        title: 'Secret store fetches by store and outcome',
        description: `keyline.secrets.store.fetches: stale = a failed refresh while the cached value is served (alerts at ${T.storeStaleFetches} in ${T.storeStaleWindow} with no success).`,
        type: 'timeseries',
        unit: 'short',
        width: 12,
        targets: [
          {
            expr: `sum by (${l(ATTR.store)}, ${l(ATTR.outcome)}) (increase(${PROM.storeFetches}[${RATE}]))`,
            legend: `{{${l(ATTR.store)}}} {{${l(ATTR.outcome)}}}`,
          },
        ],
      },
    ],
  },
]

const thresholds = (t: PanelSpec['threshold']): unknown => ({
  mode: 'absolute',
  steps: t
    ? t.below
      ? [
          { color: 'red', value: null },
          { color: 'green', value: t.value },
        ]
      : [
          { color: 'green', value: null },
          { color: 'red', value: t.value },
        ]
    : [{ color: 'green', value: null }],
})

const panel = (spec: PanelSpec, id: number, x: number, y: number, w: number): unknown => ({
  id,
  type: spec.type,
  title: spec.title,
  description: spec.description,
  datasource: DS,
  gridPos: { h: 8, w, x, y },
  fieldConfig: {
    defaults: {
      unit: spec.unit,
      thresholds: thresholds(spec.threshold),
      ...(spec.type === 'timeseries'
        ? { custom: { thresholdsStyle: { mode: spec.threshold ? 'line' : 'off' } } }
        : {}),
    },
    overrides: [],
  },
  options:
    spec.type === 'stat'
      ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value' }
      : { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
  targets: spec.targets.map((t, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: DS,
    expr: t.expr,
    legendFormat: t.legend,
  })),
})

/** Every PromQL expression of the dashboard, for the tests. */
export const dashboardExprs = (): string[] =>
  rows.flatMap((r) => r.panels.flatMap((p) => p.targets.map((t) => t.expr)))

/** The Grafana dashboard (importable, or provisioned from a file). */
export const grafanaDashboard = (): unknown => {
  const panels: unknown[] = []
  let id = 1
  let y = 0
  for (const row of rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    })
    y += 1
    let x = 0
    for (const spec of row.panels) {
      const w = spec.width ?? 12
      if (x + w > 24) {
        x = 0
        y += 8
      }
      panels.push(panel(spec, id++, x, y, w))
      x += w
    }
    y += 8
  }
  return {
    uid: 'keyline-overview',
    title: 'keyline overview',
    description: 'Generated by scripts/generate-dashboards.ts from src/telemetry.',
    tags: ['keyline'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    editable: true,
    graphTooltip: 1,
    refresh: '1m',
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Prometheus',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
          refresh: 1,
        },
      ],
    },
    annotations: { list: [] },
    panels,
  }
}
