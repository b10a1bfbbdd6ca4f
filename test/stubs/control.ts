import type { Fault, KeysRequest, RecordedRequest, SessionCreated, StubStateView } from './types.ts'

export type * from './types.ts'

/** A typed client of a stub's `/__stub/` control API; fetch only, so Node and workerd alike. */
export interface StubControl {
  /** Base URL of the stub session this client drives (use it as the upstream base URL). */
  readonly url: string
  /** Back to the initial keys; drops faults, mode, recorded requests; closes the gate. */
  reset(): Promise<void>
  /** Enqueues one-shot faults, each consumed by the next matching request. */
  fault(...faults: Fault[]): Promise<StubStateView>
  /** Sets the persistent fault applied to every matching request; `null` clears it. */
  mode(fault: Fault | null): Promise<StubStateView>
  /** Changes a credential set (accept, revoke, replace). */
  keys(update: KeysRequest): Promise<StubStateView>
  /** Requests received so far (control calls excluded). */
  requests(): Promise<RecordedRequest[]>
  /** Counters, queue, mode, gate and credential sets. */
  state(): Promise<StubStateView>
  /** Opens the drip gate: waiting streams send their `message_stop`. */
  release(): Promise<StubStateView>
  /** Resolves once `count` streams wait at the gate (polls `state()`). */
  waitForGate(count?: number, timeoutMs?: number): Promise<void>
  /** A new isolated session (own keys, faults, requests) on the same stub. */
  session(): Promise<StubControl>
}

const call = async <T>(url: string, method: 'GET' | 'POST', body?: unknown): Promise<T> => {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`stub control ${method} ${url}: ${response.status} ${text}`)
  return JSON.parse(text) as T
}

/**
 * Drives the stub at `url` (a stub's base URL or a session URL `…/s/<id>`).
 *
 * @example
 * const anthropic = await stubControl(inject('stubs').anthropic).session()
 * await anthropic.fault({ kind: 'status', status: 529 })
 * // … point the proxy's ANTHROPIC_BASE_URL at anthropic.url, call it …
 * expect((await anthropic.requests())[0]?.headers.authorization).toBeUndefined()
 */
export const stubControl = (url: string): StubControl => {
  const base = url.replace(/\/+$/, '')
  const at = (route: string) => `${base}/__stub/${route}`
  const self: StubControl = {
    url: base,
    async reset() {
      await call(at('reset'), 'POST', {})
    },
    fault: (...faults) => call(at('faults'), 'POST', faults),
    mode: (fault) => call(at('faults'), 'POST', { mode: fault }),
    keys: (update) => call(at('keys'), 'POST', update),
    requests: () => call(at('requests'), 'GET'),
    state: () => call(at('state'), 'GET'),
    release: () => call(at('release'), 'POST', {}),
    async waitForGate(count = 1, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs
      while ((await self.state()).gate.waiting < count) {
        if (Date.now() > deadline)
          throw new Error(`no ${count} stream(s) at the gate in ${timeoutMs} ms`)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    },
    async session() {
      const created = await call<SessionCreated>(at('sessions'), 'POST', {})
      return stubControl(created.url)
    },
  }
  return self
}
