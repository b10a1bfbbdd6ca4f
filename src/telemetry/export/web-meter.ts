import type {
  Attributes,
  AttributeValue,
  BatchObservableCallback,
  Counter,
  Gauge,
  Histogram,
  Meter,
  MeterOptions,
  MeterProvider,
  MetricOptions,
  Observable,
  ObservableCallback,
  ObservableCounter,
  ObservableGauge,
  ObservableUpDownCounter,
  UpDownCounter,
} from '@opentelemetry/api'

/**
 * A small metrics SDK for the Web-API exporters (Workers, Deno): an `@opentelemetry/api`
 * `MeterProvider` that aggregates in memory with cumulative temporality and encodes a collection
 * as an OTLP/HTTP JSON `ExportMetricsServiceRequest`. It does what `@opentelemetry/sdk-metrics`
 * with one on-demand reader, no views and the OTLP JSON serializer did there (≈ 50 KiB of the
 * Worker bundle), with the same results: sums (monotonic for counters), last-value gauges,
 * explicit-bucket histograms (the `advice` boundaries, else the SDK's defaults) with min and max,
 * negative counter and histogram values dropped, `valueType: INT` values truncated, and a series
 * kept once seen (cumulative). Node keeps the real SDK (Prometheus and the OTLP exporters).
 */

/** The SDK's default explicit bucket boundaries. */
const DEFAULT_BOUNDARIES = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000]

/** `@opentelemetry/api`'s `ValueType.INT`. */
const VALUE_TYPE_INT = 0

type Kind = 'sum' | 'gauge' | 'histogram'

interface Point {
  readonly attributes: Attributes
  readonly start: number
  value: number
  count: number
  min: number
  max: number
  buckets?: number[]
}

interface Stream {
  readonly name: string
  readonly description: string
  readonly unit: string
  readonly kind: Kind
  /** Sums only: a counter's (never decreases). */
  readonly monotonic: boolean
  /** Observable sums report totals: the observed value replaces the point's. */
  readonly observed: boolean
  readonly integer: boolean
  readonly boundaries: readonly number[]
  readonly points: Map<string, Point>
}

/** One OTLP JSON `KeyValue`. */
export interface OtlpKeyValue {
  readonly key: string
  readonly value: Record<string, unknown>
}

/** An OTLP/HTTP JSON `ExportMetricsServiceRequest`, as {@link WebMeterProvider.collect} builds it. */
export interface OtlpMetricsRequest {
  readonly resourceMetrics: ReadonlyArray<{
    readonly resource: { readonly attributes: readonly OtlpKeyValue[] }
    readonly scopeMetrics: ReadonlyArray<{
      readonly scope: { readonly name: string; readonly version?: string }
      readonly metrics: ReadonlyArray<Record<string, unknown>>
    }>
  }>
}

/** What one {@link WebMeterProvider.collect} gathered. */
export interface Collection {
  readonly request: OtlpMetricsRequest
  /** Data points in it. */
  readonly points: number
  /** Observable callbacks that threw or rejected (their instruments report nothing new). */
  readonly errors: readonly unknown[]
}

const anyValue = (value: AttributeValue | undefined): Record<string, unknown> => {
  if (typeof value === 'string') return { stringValue: value }
  if (typeof value === 'boolean') return { boolValue: value }
  if (typeof value === 'number')
    return Number.isInteger(value) ? { intValue: value } : { doubleValue: value }
  if (Array.isArray(value)) {
    return { arrayValue: { values: value.map((v) => anyValue(v ?? undefined)) } }
  }
  return {}
}

/** Attributes as OTLP JSON `KeyValue`s. */
export const keyValues = (attributes: Attributes): OtlpKeyValue[] =>
  Object.entries(attributes).map(([key, value]) => ({ key, value: anyValue(value) }))

/** The series key of a set of attributes: the same for the same attributes in any order. */
const seriesKey = (attributes: Attributes): string => {
  const keys = Object.keys(attributes)
  if (keys.length === 0) return ''
  if (keys.length > 1) keys.sort()
  let key = ''
  for (const k of keys) key += `${JSON.stringify(k)}:${JSON.stringify(attributes[k]) ?? ''},`
  return key
}

/** Nanoseconds since the epoch, as OTLP JSON writes a `fixed64`: a decimal string. */
const nanos = (ms: number): string => (ms === 0 ? '0' : `${Math.trunc(ms)}000000`)

const bucketOf = (boundaries: readonly number[], value: number): number => {
  let i = 0
  while (i < boundaries.length && (boundaries[i] as number) < value) i++
  return i
}

const record = (stream: Stream, input: number, attributes: Attributes = {}): void => {
  let value = input
  if (typeof value !== 'number') return
  if ((stream.monotonic || stream.kind === 'histogram') && value < 0) return
  if (stream.integer && !Number.isInteger(value)) value = Math.trunc(value)
  const key = seriesKey(attributes)
  let point = stream.points.get(key)
  if (!point) {
    point = {
      attributes: { ...attributes },
      start: Date.now(),
      value: 0,
      count: 0,
      min: Number.POSITIVE_INFINITY,
      max: Number.NEGATIVE_INFINITY,
      ...(stream.kind === 'histogram' ? { buckets: stream.boundaries.map(() => 0).concat(0) } : {}),
    }
    stream.points.set(key, point)
  }
  if (stream.kind === 'gauge' || stream.observed) {
    point.value = value
    return
  }
  point.value += value
  if (point.buckets) {
    point.count++
    if (value < point.min) point.min = value
    if (value > point.max) point.max = value
    const bucket = bucketOf(stream.boundaries, value)
    point.buckets[bucket] = (point.buckets[bucket] ?? 0) + 1
  }
}

const encode = (stream: Stream, time: string): Record<string, unknown> => {
  const dataPoints = [...stream.points.values()].map((p) => {
    const base = {
      attributes: keyValues(p.attributes),
      startTimeUnixNano: nanos(p.start),
      timeUnixNano: time,
    }
    if (stream.kind !== 'histogram') {
      return { ...base, [stream.integer ? 'asInt' : 'asDouble']: p.value }
    }
    return {
      ...base,
      count: p.count,
      sum: p.value,
      ...(p.count > 0 ? { min: p.min, max: p.max } : {}),
      bucketCounts: p.buckets,
      explicitBounds: stream.boundaries,
    }
  })
  const data =
    stream.kind === 'sum'
      ? { dataPoints, aggregationTemporality: 2, isMonotonic: stream.monotonic }
      : stream.kind === 'histogram'
        ? { dataPoints, aggregationTemporality: 2 }
        : { dataPoints }
  return {
    name: stream.name,
    description: stream.description,
    unit: stream.unit,
    [stream.kind]: data,
  }
}

interface ObservableEntry {
  readonly stream: Stream
  readonly callbacks: Set<ObservableCallback>
}

class WebMeter implements Meter {
  readonly streams = new Map<string, Stream>()
  readonly observables = new Map<Stream, ObservableEntry>()
  readonly batches = new Map<BatchObservableCallback, Observable[]>()
  /** Each observable handed out, to find its stream in a batch callback. */
  readonly byObservable = new WeakMap<object, ObservableEntry>()

  readonly name: string
  readonly version: string | undefined

  constructor(name: string, version: string | undefined) {
    this.name = name
    this.version = version
  }

  private stream(
    name: string,
    options: MetricOptions | undefined,
    kind: Kind,
    flags: { monotonic?: boolean; observed?: boolean } = {}
  ): Stream {
    // One stream per instrument type, name, unit and value type, as the SDK keeps them apart: a
    // conflicting registration is its own metric, not merged into another.
    const integer = options?.valueType === VALUE_TYPE_INT
    const id = [
      kind,
      flags.monotonic ? 'm' : '',
      flags.observed ? 'o' : '',
      integer ? 'i' : '',
      options?.unit ?? '',
      name,
    ].join(':')
    let stream = this.streams.get(id)
    if (!stream) {
      stream = {
        name,
        description: options?.description ?? '',
        unit: options?.unit ?? '',
        kind,
        monotonic: flags.monotonic ?? false,
        observed: flags.observed ?? false,
        integer,
        boundaries: [...(options?.advice?.explicitBucketBoundaries ?? DEFAULT_BOUNDARIES)],
        points: new Map(),
      }
      this.streams.set(id, stream)
    }
    return stream
  }

  private observable(stream: Stream): ObservableGauge {
    let entry = this.observables.get(stream)
    if (!entry) {
      entry = { stream, callbacks: new Set() }
      this.observables.set(stream, entry)
    }
    const { callbacks } = entry
    const observable = {
      addCallback: (callback: ObservableCallback) => void callbacks.add(callback),
      removeCallback: (callback: ObservableCallback) => void callbacks.delete(callback),
    }
    this.byObservable.set(observable, entry)
    return observable
  }

  createCounter(name: string, options?: MetricOptions): Counter {
    const stream = this.stream(name, options, 'sum', { monotonic: true })
    return { add: (value, attributes) => record(stream, value, attributes) }
  }
  createUpDownCounter(name: string, options?: MetricOptions): UpDownCounter {
    const stream = this.stream(name, options, 'sum')
    return { add: (value, attributes) => record(stream, value, attributes) }
  }
  createHistogram(name: string, options?: MetricOptions): Histogram {
    const stream = this.stream(name, options, 'histogram')
    return { record: (value, attributes) => record(stream, value, attributes) }
  }
  createGauge(name: string, options?: MetricOptions): Gauge {
    const stream = this.stream(name, options, 'gauge')
    return { record: (value, attributes) => record(stream, value, attributes) }
  }
  createObservableGauge(name: string, options?: MetricOptions): ObservableGauge {
    return this.observable(this.stream(name, options, 'gauge', { observed: true }))
  }
  createObservableCounter(name: string, options?: MetricOptions): ObservableCounter {
    return this.observable(this.stream(name, options, 'sum', { monotonic: true, observed: true }))
  }
  createObservableUpDownCounter(name: string, options?: MetricOptions): ObservableUpDownCounter {
    return this.observable(this.stream(name, options, 'sum', { observed: true }))
  }
  addBatchObservableCallback(callback: BatchObservableCallback, observables: Observable[]): void {
    this.batches.set(callback, observables)
  }
  removeBatchObservableCallback(callback: BatchObservableCallback): void {
    this.batches.delete(callback)
  }

  /** Runs the observable callbacks; returns what they threw. */
  async observe(): Promise<unknown[]> {
    const errors: unknown[] = []
    const run = async (callback: () => void | Promise<void>): Promise<void> => {
      try {
        await callback()
      } catch (error) {
        errors.push(error)
      }
    }
    const pending: Promise<void>[] = []
    for (const { stream, callbacks } of this.observables.values()) {
      const result = {
        observe: (value: number, attributes?: Attributes) => record(stream, value, attributes),
      }
      for (const callback of callbacks) pending.push(run(() => callback(result)))
    }
    for (const [callback, observables] of this.batches) {
      const allowed = new Set(observables)
      const result = {
        observe: (observable: Observable, value: number, attributes?: Attributes) => {
          const entry = allowed.has(observable) ? this.byObservable.get(observable) : undefined
          if (entry) record(entry.stream, value, attributes)
        },
      }
      pending.push(run(() => callback(result)))
    }
    await Promise.all(pending)
    return errors
  }
}

/** An `@opentelemetry/api` meter provider whose metrics {@link collect} reads. */
export class WebMeterProvider implements MeterProvider {
  private readonly meters = new Map<string, WebMeter>()

  getMeter(name: string, version?: string, _options?: MeterOptions): Meter {
    const id = `${name}@${version ?? ''}`
    let meter = this.meters.get(id)
    if (!meter) {
      meter = new WebMeter(name, version)
      this.meters.set(id, meter)
    }
    return meter
  }

  /**
   * Runs the observable callbacks, then encodes every series recorded so far (cumulative) as
   * one OTLP JSON request for `resource`. Metrics with no data point yet are left out.
   */
  async collect(resource: Attributes): Promise<Collection> {
    const meters = [...this.meters.values()]
    const errors = (await Promise.all(meters.map((m) => m.observe()))).flat()
    const time = nanos(Date.now())
    let points = 0
    const scopeMetrics = meters.flatMap((meter) => {
      const metrics = [...meter.streams.values()]
        .filter((s) => s.points.size > 0)
        .map((s) => {
          points += s.points.size
          return encode(s, time)
        })
      if (metrics.length === 0) return []
      const scope = meter.version
        ? { name: meter.name, version: meter.version }
        : { name: meter.name }
      return [{ scope, metrics }]
    })
    return {
      request: {
        resourceMetrics: [{ resource: { attributes: keyValues(resource) }, scopeMetrics }],
      },
      points,
      errors,
    }
  }
}
