import Anthropic from '@anthropic-ai/sdk'
import type { ProviderSnapshot } from '../../secrets/registry.ts'
import type { CallDeps, CallScope } from '../call.ts'
import { callAnthropic } from './call.ts'

/** Options passed through to every `@anthropic-ai/sdk` client keyline builds. */
export interface AnthropicClientOptions {
  /**
   * Retries the SDK makes itself, on top of keyline's own retry policy (which already retries
   * 429, 529, 5xx and network failures with backoff).
   * @default 0
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
    maxRetries: options.maxRetries ?? 0,
    timeout: options.timeout ?? 600_000,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  })

/** What {@link AnthropicClientFactory} builds a client from. */
export interface AnthropicClientContext {
  readonly deps: CallDeps
  /** The scope of the latest request that touched the client. */
  readonly scope: () => CallScope
  readonly snapshot: ProviderSnapshot<'anthropic'>
  readonly options: AnthropicClientOptions
}

/** Builds the client behind `c.var.anthropic` for one provider generation. */
export type AnthropicClientFactory = (context: AnthropicClientContext) => Anthropic

const modelOf = (
  path: string,
  body: string | Uint8Array<ArrayBuffer> | undefined
): string | undefined => {
  if (typeof body !== 'string' || !path.startsWith('/v1/messages')) return undefined
  try {
    const model = (JSON.parse(body) as { model?: unknown }).model
    return typeof model === 'string' ? model : undefined
  } catch {
    return undefined
  }
}

/**
 * The `@anthropic-ai/sdk` client of `c.var.anthropic`: its `fetch` sends every SDK call through
 * keyline's one Anthropic call, so SDK calls get the current key, failover to the next key,
 * keyline's retries and timeouts, redaction and metrics, exactly like the proxy routes.
 * Anthropic's own errors reach the SDK as Anthropic sent them (the SDK throws its `APIError`);
 * a call that got no usable answer throws keyline's 502/504 {@link KeylineError}, which the
 * SDK wraps in `APIConnectionError` (its `cause`) and `onError` answers as it is.
 */
export const anthropicSdkClient: AnthropicClientFactory = ({ deps, scope, snapshot, options }) => {
  const { baseUrl } = snapshot.settings
  const viaKeyline: typeof fetch = async (input, init) => {
    const request = new Request(input, init)
    const url = request.url
    const path = url.startsWith(baseUrl) ? url.slice(baseUrl.length) : new URL(url).pathname
    const body =
      typeof init?.body === 'string'
        ? init.body
        : request.body
          ? new Uint8Array(await request.arrayBuffer())
          : undefined
    const answer = await callAnthropic(deps, { ...scope(), signal: request.signal }, snapshot, {
      path,
      method: request.method,
      body,
      // A multipart upload's type carries its boundary; JSON otherwise.
      contentType:
        body === undefined ? undefined : (request.headers.get('content-type') ?? undefined),
      model: modelOf(path, body),
      headers: request.headers,
    })
    return new Response(answer.body, answer)
  }
  // The key travels only through keyline's call; the SDK holds a stand-in.
  return createAnthropicClient('keyline', baseUrl, { ...options, fetch: viaKeyline })
}
