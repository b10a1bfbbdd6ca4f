import { Hono } from 'hono'
import { FyersApiError, type FyersQuotesResponse } from '../clients/fyers.ts'
import { fyersClientFor } from '../clients/fyers-from-snapshot.ts'
import { ProviderNotConfiguredError } from '../errors/provider-not-configured.ts'
import type { SecretsVariables } from '../middleware/secrets.ts'
import { fyersFailure } from '../proxy/fyers-failure.ts'
import { type CallEnd, fyersEnd } from '../proxy/observe.ts'
import { providerCall } from '../proxy/provider-call.ts'
import type { ProxyDeps } from '../proxy/proxy-deps.ts'
import { resilientFetch } from '../proxy/resilient-fetch.ts'
import type { Secret } from '../secrets/secret.ts'
import { parseSymbols } from './quote-symbols.ts'

type Env = { Variables: SecretsVariables }
type Outcome = { ok: FyersQuotesResponse } | { error: FyersApiError }

/**
 * The Fyers proxy: `GET /v1/quotes?symbols=…` answers Fyers' envelope, checking the HTTP
 * status, the top-level `s` and each `d[i].s`; a rejected token fails over to the next one.
 */
export const fyersRoutes = (options: ProxyDeps): Hono<Env> => {
  const { observer } = options
  const fetcher = resilientFetch(options.policy, options.fetch)
  const app = new Hono<Env>()

  app.get('/v1/quotes', async (c) => {
    const symbols = parseSymbols(c.req.query('symbols'))
    const snapshot = c.var.secrets.fyers
    const current = snapshot.credentials.accessToken.current
    if (!snapshot.configured || !current) {
      throw new ProviderNotConfiguredError('fyers', snapshot.issues)
    }
    const startedAt = Date.now()
    const observe = (end: CallEnd): void =>
      observer.fyersQuotes(snapshot.settings.baseUrl, startedAt, end)
    const signal = c.req.raw.signal
    const call = async (token: Secret): Promise<Outcome> => {
      const client =
        token === current ? c.var.fyers : fyersClientFor(snapshot, token.reveal(), fetcher)
      try {
        return { ok: await client.quotes(symbols, { signal }) }
      } catch (error) {
        if (error instanceof FyersApiError) return { error }
        throw error
      }
    }
    const result = await providerCall(c, options, {
      provider: 'fyers',
      credential: 'accessToken',
      current,
      staged: snapshot.credentials.accessToken.next,
      call,
      rejected: (outcome) => 'error' in outcome && outcome.error.isAuthError,
      observe,
    })
    c.header('keyline-key-slot', result.slot)
    const { outcome } = result
    if ('error' in outcome) {
      observe(fyersEnd(outcome.error))
      throw fyersFailure(outcome.error)
    }
    observe({ ok: true })
    const failed = outcome.ok.d.filter((quote) => quote.s !== 'ok').length
    if (failed) c.header('keyline-quote-errors', String(failed))
    return c.json(outcome.ok)
  })

  return app
}
