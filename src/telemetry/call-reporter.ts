import type { HealthTracker } from '../health/provider-health.ts'
import { anthropicErrorType } from '../providers/anthropic.ts'
import type { CallReport, CallReporter } from '../providers/call.ts'
import { fyersErrorType } from '../providers/fyers.ts'
import { isClientErrorType } from './attributes.ts'
import { recordAiCall, recordFailover, recordFyersQuote } from './record.ts'

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
    const errorType = end.ok
      ? undefined
      : provider === 'anthropic'
        ? anthropicErrorType(end.facts)
        : fyersErrorType(end.facts)
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
    } else if (report.operation === 'quotes') {
      recordFyersQuote({
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
