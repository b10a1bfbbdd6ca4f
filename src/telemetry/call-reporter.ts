import type { CallEnd } from '../catalog/outcomes.ts'
import { errorTypeOf, type ProviderId } from '../catalog/providers.ts'
import { isClientErrorType } from './attributes.ts'
import type { HealthTracker } from './provider-health.ts'
import { recordAiCall, recordFailover, recordFyersQuote } from './record.ts'

/** One finished upstream call, as a provider module reports it. */
export interface CallReport {
  readonly provider: ProviderId
  /** The operation, e.g. `chat`, `models`, `quotes`. */
  readonly operation: string
  /** The HTTP method, for Fyers calls. @default 'GET' */
  readonly method?: string
  /** The requested model, for AI calls. */
  readonly model?: string
  /** The name of the client token the request came with (see `clientAuth`), for metrics. */
  readonly client?: string
  /** The upstream base URL. */
  readonly baseUrl: string
  /** When the call started (epoch ms). */
  readonly startedAt: number
  readonly end: CallEnd
}

/** Where provider modules report their calls: the health tracker and the metrics. */
export interface CallReporter {
  /** A finished call. */
  call(report: CallReport): void
  /** A rejected current secret was replaced by a working next one. */
  failover(provider: ProviderId): void
}

const hostOf = new Map<string, string>()
/** The host of a base URL, parsed once per URL. */
const host = (baseUrl: string): string => {
  let found = hostOf.get(baseUrl)
  if (found === undefined) {
    found = new URL(baseUrl).hostname
    if (hostOf.size < 64) hostOf.set(baseUrl, found)
  }
  return found
}

/**
 * Reports every finished upstream call to the provider health shown by the admin status and to
 * the OpenTelemetry metrics, in one place, so both always tell the same story. A failure the
 * client's own request caused (a bad body, an unknown model or symbol) is counted but does not
 * touch the failure streak.
 */
export const callReporter = (health: HealthTracker): CallReporter => ({
  call(report: CallReport): void {
    const durationS = (Date.now() - report.startedAt) / 1000
    const { end, provider } = report
    if (end.ok) health.success(provider)
    const errorType = end.ok ? undefined : errorTypeOf[provider](end.facts)
    if (errorType !== undefined && !isClientErrorType(errorType)) {
      health.failure(provider, errorType)
    }
    if (provider === 'anthropic') {
      recordAiCall({
        operation: report.operation,
        model: report.model,
        durationS,
        outcome: errorType === undefined ? 'success' : { errorType },
        usage: end.ok ? end.usage : undefined,
        client: report.client,
      })
    } else {
      recordFyersQuote({
        operation: report.operation,
        method: report.method,
        durationS,
        httpStatus: end.ok ? 200 : end.facts.httpStatus,
        serverAddress: host(report.baseUrl),
        outcome:
          errorType === undefined
            ? 'success'
            : { errorType, fyersCode: end.ok ? undefined : end.facts.fyersCode },
      })
    }
  },
  failover(provider): void {
    health.failover(provider)
    recordFailover(provider)
  },
})
