import type { FyersLoginResult } from '../admin/fyers-routes.ts'
import type { KeyStatus, PromoteResult, ReloadResult } from '../admin/index.ts'
import type { ProviderId } from '../catalog/providers.ts'
import { refusal, unreachable } from './call-failure.ts'
import { CliError } from './cli-error.ts'

/** Options of {@link createAdminClient}. */
export interface AdminClientOptions {
  /** The deployment's base URL, e.g. `https://keyline.example.workers.dev`. */
  url: string
  /** The admin token; sent as `Authorization: Bearer …`, never printed. */
  token: string
  /** @default globalThis.fetch */
  fetch?: typeof fetch
  /** @default 30000 */
  timeoutMs?: number
}

/** The admin API of one deployment. */
export interface AdminClient {
  readonly url: string
  status(): Promise<KeyStatus>
  reload(): Promise<ReloadResult>
  promote(provider: ProviderId): Promise<PromoteResult>
  /** `POST /admin/fyers/login`: the Fyers sign-in URL to open. */
  fyersLogin(): Promise<FyersLoginResult>
  /** `POST /admin/fyers/refresh`: refresh the Fyers access token now. */
  fyersRefresh(): Promise<{ refreshed: boolean; by: string; token: string | null }>
}

/** A fetch client for `/admin/keys/*` that turns every error body into a {@link CliError}. */
export const createAdminClient = (options: AdminClientOptions): AdminClient => {
  let base: URL
  try {
    base = new URL(options.url)
  } catch {
    throw new CliError(`Not a URL: ${options.url}`, 2)
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new CliError(`The deployment URL must be http(s): ${options.url}`, 2)
  }
  const doFetch = options.fetch ?? fetch
  const timeoutMs = options.timeoutMs ?? 30_000

  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const url = new URL(path, base.href.endsWith('/') ? base.href : `${base.href}/`)
    let response: Response
    try {
      response = await doFetch(url, {
        method,
        headers: {
          authorization: `Bearer ${options.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (err) {
      throw new CliError(unreachable(url, err, timeoutMs))
    }
    const text = await response.text()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    if (!response.ok) {
      const error = (json as { error?: { type?: string; message?: string } } | undefined)?.error
      throw new CliError(refusal(response.status, error, response.headers.get('retry-after')))
    }
    if (json === undefined) {
      throw new CliError(
        `${method} ${url.pathname} answered ${response.status} with a body that is not JSON: is ${base.host} a keyline server?`
      )
    }
    return json as T
  }

  return {
    url: base.href,
    status: () => call<KeyStatus>('GET', 'admin/keys/status'),
    reload: () => call<ReloadResult>('POST', 'admin/keys/reload'),
    promote: (provider) => call<PromoteResult>('POST', 'admin/keys/promote', { provider }),
    fyersLogin: () => call<FyersLoginResult>('POST', 'admin/fyers/login'),
    fyersRefresh: () => call('POST', 'admin/fyers/refresh'),
  }
}
