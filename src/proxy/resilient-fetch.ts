import { guardStream } from './guard-stream.ts'
import type { RetryPolicy } from './retry-policy.ts'
import { upstreamFetch } from './upstream-fetch.ts'

/**
 * A `fetch` with {@link upstreamFetch}'s timeouts, retries and `redirect: "manual"`, and the
 * policy's idle timeout on the response body (a body that stalls errors with an
 * `UpstreamError`), for clients (such as the Fyers client) that take a fetch function. Request
 * bodies must be strings or absent.
 */
export const resilientFetch =
  (policy: RetryPolicy, baseFetch?: typeof fetch): typeof fetch =>
  (input, init = {}) => {
    const url = input instanceof Request ? input.url : String(input)
    if (init.body !== undefined && init.body !== null && typeof init.body !== 'string') {
      throw new TypeError('resilientFetch sends string bodies only, so a retry can resend them')
    }
    return upstreamFetch(
      {
        url,
        method: init.method ?? 'GET',
        headers: new Headers(init.headers),
        body: init.body ?? undefined,
      },
      { policy, signal: init.signal ?? undefined, fetch: baseFetch }
    ).then((response) =>
      response.body
        ? new Response(
            guardStream(response.body, { idleTimeoutMs: policy.idleTimeoutMs }),
            response
          )
        : response
    )
  }
