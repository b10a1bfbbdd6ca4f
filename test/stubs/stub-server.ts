import type { AddressInfo } from 'node:net'
import { type HttpBindings, type ServerType, serve } from '@hono/node-server'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import { type Context, Hono } from 'hono'
import { StubState } from './state.ts'
import type { Fault, FaultsRequest, KeysRequest, SessionCreated } from './types.ts'

/** Bindings and variables of a stub app. */
export interface StubEnv {
  Bindings: HttpBindings & { evil?: boolean }
  Variables: {
    state: StubState
    /** Base URL of the request's session, e.g. `http://127.0.0.1:1234/s/ab12cd34`. */
    base: string
    fault: Fault | undefined
    /** Status recorded for the request when the handler wrote the response itself. */
    status: number | undefined
    /** Anthropic: the `request-id` of this response. */
    requestId: string
  }
}

/** A stub's Hono context. */
export type StubContext = Context<StubEnv>

/** A running stub upstream. */
export interface StartedStub {
  /** Base URL, `http://127.0.0.1:<port>`, of the default session. */
  url: string
  port: number
  /** State of the default session (the one at the root URL). */
  state: StubState
  /** Every session by id, `default` included. */
  sessions: Map<string, StubState>
  /** Creates an isolated session, served under `<url>/s/<id>`. */
  createSession(): SessionCreated
  /** Stops both listeners, dropping open connections. */
  close(): Promise<void>
}

/** What `startStubServer` needs from a provider stub. */
export interface StubServerOptions {
  stub: 'anthropic' | 'fyers'
  /** Credential sets of every new session; the first one is the default of `/__stub/keys`. */
  initialSets: Record<string, readonly string[]>
  /** Adds the provider's routes; the fault of the request is in `c.get('fault')`. */
  routes: (app: Hono<StubEnv>) => void
  /** Adds provider headers (e.g. Anthropic `request-id`) in a middleware before the routes. */
  middleware?: (app: Hono<StubEnv>) => void
  /** @default 0 (OS-assigned) */
  port?: number
  /** @default '127.0.0.1' */
  hostname?: string
}

const SESSION_PREFIX = /^\/s\/([A-Za-z0-9_-]{1,64})(?=\/|$)/
const DEFAULT_SESSION = 'default'

const splitSession = (url: string): { id: string; prefix: string; path: string } => {
  const pathname = new URL(url).pathname
  const m = SESSION_PREFIX.exec(pathname)
  if (!m?.[1]) return { id: DEFAULT_SESSION, prefix: '', path: pathname }
  return { id: m[1], prefix: m[0], path: pathname.slice(m[0].length) || '/' }
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

/** Destroys the request's TCP socket, so the client sees a connection reset. */
export const destroySocket = (c: StubContext): Response => {
  c.env.incoming.socket.destroy()
  return RESPONSE_ALREADY_SENT
}

/**
 * Answers 200 with `body` as JSON but sends only its first `bytes` (at most all but one), then
 * destroys the socket: the client sees a connection reset in the middle of the answer.
 */
export const resetMidBody = (c: StubContext, body: string, bytes: number): Response => {
  const data = Buffer.from(body)
  const { outgoing } = c.env
  outgoing.writeHead(200, {
    'content-type': 'application/json',
    'content-length': String(data.byteLength),
  })
  outgoing.write(data.subarray(0, Math.min(bytes, data.byteLength - 1)), () => {
    // Once the partial answer is on the wire: the reset comes after it, not instead of it.
    setTimeout(() => c.env.incoming.socket.destroy(), 10)
  })
  return RESPONSE_ALREADY_SENT
}

/** `retry-after`, `retry-after-ms` and extra headers of a status fault. */
export const faultHeaders = (fault: Fault): Record<string, string> => {
  if (fault.kind !== 'status') return {}
  const headers: Record<string, string> = { ...fault.headers }
  if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter)
  if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs)
  return headers
}

const listen = (fetch: Hono<StubEnv>['fetch'], port: number, hostname: string) =>
  new Promise<{ server: ServerType; port: number }>((resolve, reject) => {
    const server = serve({ fetch, port, hostname }, (info: AddressInfo) =>
      resolve({ server, port: info.port })
    )
    // Keep idle connections well past a client's own keep-alive (undici: 4 s), so a client
    // never reuses a socket the stub is closing at that moment ("other side closed").
    if ('keepAliveTimeout' in server) server.keepAliveTimeout = 65_000
    server.once('error', reject)
  })

const closeServer = (server: ServerType): Promise<void> =>
  new Promise((resolve) => {
    if ('closeAllConnections' in server) server.closeAllConnections()
    server.close(() => resolve())
  })

const jsonBody = async <T>(c: StubContext): Promise<T | undefined> => {
  const text = await c.req.text()
  return text ? (JSON.parse(text) as T) : undefined
}

/**
 * Starts a stub upstream: the provider's routes plus request recording, fault selection
 * (delay and redirect handled here), sessions, `/__evil/` redirect targets and the `/__stub/`
 * control API, on `hostname:port`, plus a second "evil" listener that counts every hit.
 */
export const startStubServer = async (options: StubServerOptions): Promise<StartedStub> => {
  const hostname = options.hostname ?? '127.0.0.1'
  const sessions = new Map<string, StubState>()
  const newState = (id: string) => new StubState(options.stub, id, options.initialSets)
  sessions.set(DEFAULT_SESSION, newState(DEFAULT_SESSION))
  let origin = ''
  let evilOrigin = ''

  const createSession = (): SessionCreated => {
    const id = crypto.randomUUID().replaceAll('-', '').slice(0, 12)
    sessions.set(id, newState(id))
    return { id, url: `${origin}/s/${id}` }
  }

  const app = new Hono<StubEnv>({ getPath: (req) => splitSession(req.url).path })

  app.use(async (c, next) => {
    const { id, prefix } = splitSession(c.req.url)
    const state = sessions.get(id)
    if (!state) return c.json({ error: `unknown stub session ${id}` }, 404)
    c.set('state', state)
    c.set('base', `${origin}${prefix}`)
    if (c.req.path.startsWith('/__stub/') && !c.env.evil) return next()

    const url = new URL(c.req.url)
    const recorded = state.record({
      at: Date.now(),
      method: c.req.method,
      path: c.req.path,
      search: url.search,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(c.req.raw.headers),
      rawHeaders: pairs(c.env.incoming.rawHeaders),
      // Read as bytes (then decoded for the record), so a binary upload stays intact for the route.
      body: new TextDecoder().decode(await c.req.arrayBuffer()),
    })
    if (c.env.evil || c.req.path.startsWith('/__evil/')) {
      state.evilHits++
      recorded.status = 200
      return c.json({ evil: true, path: c.req.path })
    }

    const fault = state.takeFault(c.req.path)
    if (fault) recorded.fault = fault
    c.set('fault', fault)
    const delay = (fault?.delayMs ?? 0) + (fault?.kind === 'latency' ? fault.ms : 0)
    if (delay > 0) await sleep(delay)
    if (fault?.kind === 'redirect') {
      const target = fault.target === 'host' ? `${evilOrigin}${prefix}` : c.get('base')
      recorded.status = fault.status ?? 307
      return c.body(null, recorded.status as 307, {
        location: `${target}/__evil${c.req.path}${url.search}`,
      })
    }
    await next()
    recorded.status =
      c.get('status') ?? (c.res === RESPONSE_ALREADY_SENT ? undefined : c.res.status)
  })

  app.post('/__stub/reset', (c) => {
    c.get('state').reset()
    return c.json({ ok: true })
  })
  app.post('/__stub/faults', async (c) => {
    const state = c.get('state')
    const body = await jsonBody<FaultsRequest>(c)
    if (!body || typeof body !== 'object') return c.json({ error: 'expected a fault' }, 400)
    if ('mode' in body) state.setMode(body.mode)
    else state.enqueue(Array.isArray(body) ? body : [body])
    return c.json(state.view())
  })
  app.post('/__stub/keys', async (c) => {
    const state = c.get('state')
    try {
      state.updateKeys((await jsonBody<KeysRequest>(c)) ?? {})
    } catch (error) {
      return c.json({ error: String(error) }, 400)
    }
    return c.json(state.view())
  })
  app.get('/__stub/requests', (c) => c.json(c.get('state').requests))
  app.get('/__stub/state', (c) => c.json(c.get('state').view()))
  app.post('/__stub/release', (c) => {
    c.get('state').gate.release()
    return c.json(c.get('state').view())
  })
  app.post('/__stub/sessions', (c) => c.json(createSession(), 201))
  app.all('/__stub/*', (c) => c.json({ error: `unknown control route ${c.req.path}` }, 404))

  options.middleware?.(app)
  options.routes(app)

  const main = await listen(app.fetch, options.port ?? 0, hostname)
  const evil = await listen(
    (req, env) => app.fetch(req, { ...env, evil: true }),
    0,
    '127.0.0.1'
  ).catch(async (error) => {
    await closeServer(main.server)
    throw error
  })
  origin = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${main.port}`
  evilOrigin = `http://127.0.0.1:${evil.port}`

  return {
    url: origin,
    port: main.port,
    state: sessions.get(DEFAULT_SESSION) as StubState,
    sessions,
    createSession,
    async close() {
      for (const state of sessions.values()) state.gate.release()
      await Promise.all([closeServer(main.server), closeServer(evil.server)])
    },
  }
}

const pairs = (raw: string[]): [string, string][] => {
  const out: [string, string][] = []
  for (let i = 0; i + 1 < raw.length; i += 2)
    out.push([(raw[i] as string).toLowerCase(), raw[i + 1] as string])
  return out
}
