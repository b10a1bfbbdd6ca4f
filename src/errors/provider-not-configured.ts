import type { SecretIssue } from '../catalog/definitions.ts'
import { KeylineError } from './keyline-error.ts'

/**
 * Thrown when a handler touches `c.var.anthropic` or `c.var.fyers` while that provider is not
 * configured. Answered as `503 {"error":{"type":"provider_not_configured","provider":...}}`
 * with a message naming the variables to set.
 */
export class ProviderNotConfiguredError extends KeylineError {
  override name = 'ProviderNotConfiguredError'
  readonly provider: string

  constructor(provider: string, issues: readonly SecretIssue[]) {
    const blocking = issues.filter((issue) => issue.blocking)
    const message = blocking.length
      ? blocking.map((issue) => issue.message).join('; ')
      : `${provider} is not configured`
    super(503, 'provider_not_configured', message, { details: { provider } })
    this.provider = provider
  }
}
