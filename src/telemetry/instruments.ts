import {
  type Counter,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type ObservableGauge,
  type ObservableResult,
} from '@opentelemetry/api'
import { FYERS_AUTH_CODES } from '../catalog/fyers.ts'
import {
  ATTR,
  normaliseFyersCode,
  PROVIDERS,
  REFRESH_OUTCOMES,
  RELOAD_OUTCOMES,
  STORE_FETCH_OUTCOMES,
  STORE_KINDS,
} from './attributes.ts'
import { METER_NAME, METRICS, type MetricDefinition } from './definitions.ts'
import { FailureStreaks } from './failure-streaks.ts'

/** The values keyline's observable gauges report; one per isolate or process. */
export interface TelemetryState {
  /** Failure streaks behind `keyline.upstream.consecutive_failures`. */
  readonly streaks: FailureStreaks
  /** When the Fyers refresh token expires (epoch ms), once known. */
  refreshTokenExpiresAtMs: number | undefined
  /** The clock the gauges read. @default Date.now */
  now: () => number
}

/** The state shared by the recording functions and the gauge callbacks. */
export const telemetryState: TelemetryState = {
  streaks: new FailureStreaks(),
  refreshTokenExpiresAtMs: undefined,
  now: () => Date.now(),
}

/** Forgets every streak and the refresh-token expiry, and restores the real clock (tests). */
export const resetTelemetryState = (): void => {
  telemetryState.streaks.clear()
  telemetryState.refreshTokenExpiresAtMs = undefined
  telemetryState.now = () => Date.now()
}

/** keyline's OTel instruments, created from {@link METRICS}. */
export interface KeylineInstruments {
  readonly aiRequests: Counter
  readonly aiFailures: Counter
  readonly fyersQuoteRequests: Counter
  readonly fyersQuoteFailures: Counter
  readonly keyFailovers: Counter
  readonly secretsReloads: Counter
  readonly storeFetches: Counter
  readonly fyersTokenRefreshes: Counter
  readonly clientRequests: Counter
  readonly clientTokens: Counter
  readonly clientLimited: Counter
  readonly clientLimitsUnavailable: Counter
  readonly aiOperationDuration: Histogram
  readonly aiTokenUsage: Histogram
  readonly fyersHttpDuration: Histogram
  readonly consecutiveFailures: ObservableGauge
  readonly fyersRefreshTokenRemaining: ObservableGauge
}

const counter = (meter: Meter, def: MetricDefinition): Counter =>
  meter.createCounter(def.name, { unit: def.unit, description: def.description })

const histogram = (meter: Meter, def: MetricDefinition): Histogram =>
  meter.createHistogram(def.name, {
    unit: def.unit,
    description: def.description,
    ...(def.buckets ? { advice: { explicitBucketBoundaries: [...def.buckets] } } : {}),
  })

const gauge = (
  meter: Meter,
  def: MetricDefinition,
  callback: (result: ObservableResult) => void
): ObservableGauge => {
  const instrument = meter.createObservableGauge(def.name, {
    unit: def.unit,
    description: def.description,
  })
  instrument.addCallback(callback)
  return instrument
}

const observeStreaks = (result: ObservableResult): void => {
  for (const { provider, operation, count } of telemetryState.streaks.snapshot()) {
    result.observe(count, { [ATTR.provider]: provider, [ATTR.operation]: operation })
  }
}

const observeRefreshToken = (result: ObservableResult): void => {
  const expiresAt = telemetryState.refreshTokenExpiresAtMs
  if (expiresAt === undefined) return
  result.observe(Math.max(0, Math.floor((expiresAt - telemetryState.now()) / 1000)))
}

/**
 * Starts the series that alert on their first increase at 0, because Prometheus' `increase()`
 * cannot see the first sample of a new series: a failover, a failed refresh or reload, a Fyers
 * authentication failure.
 */
const initialiseSeries = (instruments: KeylineInstruments): void => {
  for (const provider of PROVIDERS) instruments.keyFailovers.add(0, { [ATTR.provider]: provider })
  for (const outcome of RELOAD_OUTCOMES)
    instruments.secretsReloads.add(0, { [ATTR.outcome]: outcome })
  for (const store of STORE_KINDS) {
    for (const outcome of STORE_FETCH_OUTCOMES) {
      instruments.storeFetches.add(0, { [ATTR.store]: store, [ATTR.outcome]: outcome })
    }
  }
  for (const outcome of REFRESH_OUTCOMES) {
    instruments.fyersTokenRefreshes.add(0, { [ATTR.outcome]: outcome })
  }
  const quotes = { [ATTR.operation]: 'quotes', [ATTR.errorType]: 'authentication_error' }
  for (const code of FYERS_AUTH_CODES) {
    instruments.fyersQuoteFailures.add(0, {
      ...quotes,
      [ATTR.fyersErrorCode]: normaliseFyersCode(code),
    })
  }
  instruments.fyersQuoteFailures.add(0, quotes)
  instruments.clientLimitsUnavailable.add(0)
}

const createInstruments = (meter: Meter): KeylineInstruments => {
  const instruments: KeylineInstruments = {
    aiRequests: counter(meter, METRICS.aiRequests),
    aiFailures: counter(meter, METRICS.aiFailures),
    fyersQuoteRequests: counter(meter, METRICS.fyersQuoteRequests),
    fyersQuoteFailures: counter(meter, METRICS.fyersQuoteFailures),
    keyFailovers: counter(meter, METRICS.keyFailovers),
    secretsReloads: counter(meter, METRICS.secretsReloads),
    storeFetches: counter(meter, METRICS.storeFetches),
    fyersTokenRefreshes: counter(meter, METRICS.fyersTokenRefreshes),
    clientRequests: counter(meter, METRICS.clientRequests),
    clientTokens: counter(meter, METRICS.clientTokens),
    clientLimited: counter(meter, METRICS.clientLimited),
    clientLimitsUnavailable: counter(meter, METRICS.clientLimitsUnavailable),
    aiOperationDuration: histogram(meter, METRICS.aiOperationDuration),
    aiTokenUsage: histogram(meter, METRICS.aiTokenUsage),
    fyersHttpDuration: histogram(meter, METRICS.fyersHttpDuration),
    consecutiveFailures: gauge(meter, METRICS.consecutiveFailures, observeStreaks),
    fyersRefreshTokenRemaining: gauge(
      meter,
      METRICS.fyersRefreshTokenRemaining,
      observeRefreshToken
    ),
  }
  initialiseSeries(instruments)
  return instruments
}

let cached: { provider: MeterProvider; instruments: KeylineInstruments } | undefined

/**
 * keyline's instruments on the current global MeterProvider. They are created on first use and
 * again whenever the global provider changes, so an SDK installed after import (or a test's
 * provider) still receives every measurement; the `@opentelemetry/api` metrics API has no proxy
 * provider that would do this itself.
 */
export const getInstruments = (): KeylineInstruments => {
  const provider = metrics.getMeterProvider()
  if (cached?.provider !== provider) {
    cached = { provider, instruments: createInstruments(provider.getMeter(METER_NAME)) }
  }
  return cached.instruments
}
