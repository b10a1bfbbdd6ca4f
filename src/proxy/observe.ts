import type { FyersApiError } from '../clients/fyers.ts'
import type { HealthTracker } from '../health/provider-health.ts'
import { isClientErrorType } from '../telemetry/attributes.ts'
import { anthropicErrorType, type FailureFacts, fyersErrorType } from '../telemetry/classify.ts'
import { recordAiCall, recordFailover, recordFyersQuote } from '../telemetry/record.ts'
import type { TokenUsage } from './sse-usage.ts'
import type { UpstreamError } from './upstream-error.ts'

/** How an upstream call ended, as far as health and metrics care. */
export type CallEnd =
  | { ok: true; usage?: TokenUsage }
  | { ok: false; facts: FailureFacts; fyersCode?: number; httpStatus?: number }

/** The failure facts of a call that got no usable answer. */
export const transportFacts = (error: UpstreamError): FailureFacts =>
  error.kind === 'redirect' ? {} : { transport: error.kind }

/** The failure of a Fyers call that answered with an error. */
export const fyersEnd = (error: FyersApiError): CallEnd => ({
  ok: false,
  facts: {
    httpStatus: error.httpStatus,
    fyersCode: error.code,
    invalidResponse: error.body === undefined,
  },
  fyersCode: error.code,
  httpStatus: error.httpStatus,
})

/**
 * Reports upstream calls to the provider health shown by the admin status and to the
 * OpenTelemetry metrics, in one place, so both always tell the same story.
 */
export class CallObserver {
  readonly #health: HealthTracker

  constructor(health: HealthTracker) {
    this.#health = health
  }

  /** A finished Anthropic call (`chat` or `models`), timed from `startedAt` (ms). */
  anthropic(
    operation: 'chat' | 'models',
    model: string | undefined,
    startedAt: number,
    end: CallEnd
  ): void {
    const durationS = (Date.now() - startedAt) / 1000
    if (end.ok) {
      this.#health.success('anthropic')
      recordAiCall({ operation, model, durationS, outcome: 'success', usage: end.usage })
      return
    }
    const errorType = anthropicErrorType(end.facts)
    if (!isClientErrorType(errorType)) this.#health.failure('anthropic', errorType)
    recordAiCall({ operation, model, durationS, outcome: { errorType } })
  }

  /** A finished Fyers quotes call, timed from `startedAt` (ms). */
  fyersQuotes(baseUrl: string, startedAt: number, end: CallEnd): void {
    const durationS = (Date.now() - startedAt) / 1000
    const serverAddress = new URL(baseUrl).hostname
    if (end.ok) {
      this.#health.success('fyers')
      recordFyersQuote({ durationS, httpStatus: 200, serverAddress, outcome: 'success' })
      return
    }
    const errorType = fyersErrorType(end.facts)
    if (!isClientErrorType(errorType)) this.#health.failure('fyers', errorType)
    recordFyersQuote({
      durationS,
      httpStatus: end.httpStatus,
      serverAddress,
      outcome: { errorType, fyersCode: end.fyersCode },
    })
  }

  /** A rejected current secret was replaced by a working next one. */
  failover(provider: 'anthropic' | 'fyers'): void {
    this.#health.failover(provider)
    recordFailover(provider)
  }
}
