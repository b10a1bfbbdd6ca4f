/**
 * Wire types of the stub upstreams' control API (`/__stub/*`), shared by the Node servers and
 * the fetch-only client in `control.ts`. Types only: safe to import from workerd tests.
 */

/** Fields every fault accepts. */
export interface FaultBase {
  /** Only requests whose path (inside the session) starts with this consume the fault. */
  path?: string
  /** Wait this long before sending the status line and headers. */
  delayMs?: number
}

/** Answer normally, but only after `ms` milliseconds (before headers). */
export interface LatencyFault extends FaultBase {
  kind: 'latency'
  ms: number
}

/**
 * Answer with an error status in the provider's error shape: Anthropic
 * `{"type":"error","error":{type,message},"request_id"}` (type from the status unless
 * `errorType`), Fyers `{"s":"error","code","message"}` (code from the status unless `code`; with
 * `status: 200` and `code: -353` it is Fyers' rate limit answered as HTTP 200).
 */
export interface StatusFault extends FaultBase {
  kind: 'status'
  status: number
  /** Anthropic `error.type`, e.g. `overloaded_error`. */
  errorType?: string
  message?: string
  /** Fyers `code`, e.g. -15, -16 or -353. */
  code?: number
  /** `retry-after` header, in seconds. */
  retryAfter?: number | string
  /** `retry-after-ms` header. */
  retryAfterMs?: number
  /** Extra response headers, e.g. `{ 'x-should-retry': 'false' }`. */
  headers?: Record<string, string>
}

/**
 * Destroy the TCP socket: for a streaming request after `afterEvents` SSE events have been
 * written (0: right after the headers), for any other request before the headers, or, with
 * `afterBytes`, in the middle of a JSON answer: after its status line, headers (a
 * `content-length` of the whole) and that many bytes of its body (Anthropic only).
 */
export interface ResetFault extends FaultBase {
  kind: 'reset'
  afterEvents?: number
  afterBytes?: number
}

/** Answer 200 with `content-type: application/json` and a truncated, unparseable body (or SSE data). */
export interface MalformedFault extends FaultBase {
  kind: 'malformed'
}

/**
 * Anthropic only: a streamed reply sent whole in one content coding, with its
 * `content-encoding`: `gzip`, `deflate` or `zstd` (compressed: every runtime's `fetch` decodes
 * the first, only Node's the second, none the third) or any other name (the bytes as they are,
 * labelled with it). The reply's text holds the received key.
 */
export interface EncodingFault extends FaultBase {
  kind: 'encoding'
  coding: string
}

/**
 * Stream slowly: `intervalMs` between SSE events. With `gate: true` the stream stops before
 * `message_stop` until `POST /__stub/release`; `GET /__stub/state` shows `gate.waiting`.
 */
export interface DripFault extends FaultBase {
  kind: 'drip'
  intervalMs?: number
  gate?: boolean
}

/**
 * Answer a redirect whose `location` is `/__evil/<path>` on the same stub (`target: 'path'`) or
 * on `localhost` instead of `127.0.0.1` (`target: 'host'`); hits are counted in `evilHits`.
 */
export interface RedirectFault extends FaultBase {
  kind: 'redirect'
  /** @default 307 */
  status?: 301 | 302 | 303 | 307 | 308
  /** @default 'path' */
  target?: 'path' | 'host'
}

/**
 * The upstream leaks the credential: an error whose body message, `x-echo-credential` and (on
 * Anthropic) `anthropic-ratelimit-requests-reset`
 * header carry the received `x-api-key` (Anthropic) or `authorization` (Fyers) value.
 */
export interface EchoFault extends FaultBase {
  kind: 'echo'
  /** @default 401 */
  status?: number
  /**
   * Anthropic only: the body writes the credential's characters as JSON `\uXXXX` escapes, every
   * one (`unicode`, or `UNICODE` in upper-case hex) or every other one (`half`); any JSON client
   * reads the credential back. @default none: as it is
   */
  escape?: 'unicode' | 'UNICODE' | 'half'
}

/**
 * Fyers only: a token call (`validate-authcode`, `validate-refresh-token`) succeeds, but answers
 * these tokens in place of the ones it would issue (each field given replaces its token; they
 * are not added to the accepted sets): what a broken or hostile token service may grant.
 */
export interface TokenFault extends FaultBase {
  kind: 'token'
  accessToken?: string
  refreshToken?: string
}

/** One injectable misbehaviour of a stub upstream. */
export type Fault =
  | TokenFault
  | LatencyFault
  | StatusFault
  | ResetFault
  | MalformedFault
  | DripFault
  | RedirectFault
  | EchoFault
  | EncodingFault

/**
 * Body of `POST /__stub/faults`: a fault or a list of faults to enqueue (each consumed by one
 * matching request), or `{ mode }` to set (or with `null` clear) a fault applied to every
 * matching request. Queued faults win over the mode.
 */
export type FaultsRequest = Fault | Fault[] | { mode: Fault | null }

/**
 * Body of `POST /__stub/keys`: changes one credential set. `set` names it (default: Anthropic
 * `apiKeys`, Fyers `accessTokens`; Fyers also has `clientIds`, `refreshTokens`, `appSecrets`,
 * `pins`). `replace` swaps the whole set, then `accept` adds and `revoke` removes.
 */
export interface KeysRequest {
  set?: string
  accept?: string[]
  revoke?: string[]
  replace?: string[]
  /** Fyers only: the code answered for an unknown token (-16 by default, or -15). */
  authErrorCode?: number
  /**
   * Fyers only: lifetime in seconds of the access tokens the stub issues from now on (JWTs
   * whose `exp` it enforces, answering -8 once passed). @default 86400
   */
  accessTokenTtlSeconds?: number
  /** Fyers only: whether a refresh also issues a new refresh token. @default false */
  rotateRefreshToken?: boolean
}

/** One request a stub received (control API calls excluded). */
export interface RecordedRequest {
  /** 1, 2, … in arrival order within the session. */
  seq: number
  /** Epoch milliseconds. */
  at: number
  method: string
  /** Path inside the session, e.g. `/v1/messages` (also for `/s/<id>/v1/messages`). */
  path: string
  /** Raw query string with its `?`, or ''. */
  search: string
  query: Record<string, string>
  /** All headers, lower-cased names (repeated headers joined with `, `). */
  headers: Record<string, string>
  /** Headers as received, in order, names lower-cased. */
  rawHeaders: [string, string][]
  body: string
  /** The fault applied to this request, if any. */
  fault?: Fault
  /** Status the stub answered; absent while streaming or when the socket was destroyed. */
  status?: number
}

/** `GET /__stub/state`. */
export interface StubStateView {
  stub: 'anthropic' | 'fyers'
  session: string
  requestCount: number
  /** Requests that reached a `/__evil/` redirect target. */
  evilHits: number
  queuedFaults: Fault[]
  mode: Fault | null
  gate: { open: boolean; waiting: number }
  /** Streams currently being written. */
  activeStreams: number
  sets: Record<string, string[]>
}

/** `POST /__stub/sessions`: a fresh isolated session on the same stub. */
export interface SessionCreated {
  id: string
  /** Base URL of the session: use it as the upstream base URL and for `stubControl`. */
  url: string
}

/** The value of `inject('stubs')`. */
export interface StubUrls {
  anthropic: string
  fyers: string
}

/** The value of `inject('stubKeys')`: credentials the stubs accept from the start. */
export interface StubKeys {
  anthropic: { apiKey: string }
  fyers: {
    clientId: string
    accessToken: string
    appSecret: string
    refreshToken: string
    pin: string
  }
}
