import Anthropic from '@anthropic-ai/sdk'

/** Options passed through to every `@anthropic-ai/sdk` client keyline builds. */
export interface AnthropicClientOptions {
  /**
   * Retries the SDK makes itself.
   * @default 2
   */
  maxRetries?: number
  /**
   * Request timeout in milliseconds.
   * @default 600000
   */
  timeout?: number
  /** The fetch the SDK uses. @default globalThis.fetch */
  fetch?: typeof fetch
}

/**
 * Builds an `@anthropic-ai/sdk` client from an explicit key and base URL only: nothing is read
 * from the process environment or a config file behind keyline's back.
 */
export const createAnthropicClient = (
  apiKey: string,
  baseURL: string,
  options: AnthropicClientOptions = {}
): Anthropic =>
  new Anthropic({
    apiKey,
    authToken: null,
    baseURL,
    maxRetries: options.maxRetries ?? 2,
    timeout: options.timeout ?? 600_000,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  })
