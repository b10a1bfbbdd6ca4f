import type { Fault, KeysRequest, RecordedRequest, StubStateView } from './types.ts'

/** Most requests a session keeps; older ones are dropped. */
const MAX_RECORDED = 2000

/** The gate drip streams wait at before their last event; latched open by `release()`. */
class Gate {
  open = false
  waiting = 0
  #waiters: (() => void)[] = []

  /** Resolves when the gate opens (or `abort` fires). */
  async pass(abort?: Promise<unknown>): Promise<void> {
    if (this.open) return
    this.waiting++
    try {
      await Promise.race([new Promise<void>((resolve) => this.#waiters.push(resolve)), abort])
    } finally {
      this.waiting--
    }
  }

  release(): void {
    this.open = true
    for (const resolve of this.#waiters.splice(0)) resolve()
  }

  close(): void {
    this.open = false
  }
}

/**
 * Mutable state of one stub session: accepted credentials, queued and persistent faults, the
 * drip gate and the recorded requests. Tests reach it directly (`stub.state`) or over HTTP.
 */
export class StubState {
  readonly stub: 'anthropic' | 'fyers'
  readonly session: string
  /** Credential sets by name, e.g. `apiKeys`; the first name is the default of `/__stub/keys`. */
  readonly sets = new Map<string, Set<string>>()
  readonly requests: RecordedRequest[] = []
  readonly gate = new Gate()
  queue: Fault[] = []
  mode: Fault | null = null
  evilHits = 0
  activeStreams = 0
  /** Fyers: the code answered for an unknown token. */
  authErrorCode = -16
  /** Fyers: lifetime of issued access tokens, in seconds. */
  accessTokenTtlSeconds = 86_400
  /** Fyers: whether a refresh issues a new refresh token too. */
  rotateRefreshToken = false
  #seq = 0
  readonly #initial: Record<string, readonly string[]>

  constructor(
    stub: 'anthropic' | 'fyers',
    session: string,
    initialSets: Record<string, readonly string[]>
  ) {
    this.stub = stub
    this.session = session
    this.#initial = initialSets
    this.reset()
  }

  /** Back to the initial credentials, no faults, no recorded requests, gate closed. */
  reset(): void {
    this.sets.clear()
    for (const [name, values] of Object.entries(this.#initial)) this.sets.set(name, new Set(values))
    this.requests.length = 0
    this.queue = []
    this.mode = null
    this.evilHits = 0
    this.authErrorCode = -16
    this.accessTokenTtlSeconds = 86_400
    this.rotateRefreshToken = false
    this.#seq = 0
    this.gate.close()
  }

  /** The initial credential sets, e.g. to seed a new session. */
  get initialSets(): Record<string, readonly string[]> {
    return this.#initial
  }

  /** Whether `value` is in the credential set `name`. */
  has(name: string, value: string | undefined): boolean {
    return value !== undefined && value !== '' && (this.sets.get(name)?.has(value) ?? false)
  }

  /** Applies a `/__stub/keys` body; throws on an unknown set name. */
  updateKeys(update: KeysRequest): void {
    const name = update.set ?? [...this.sets.keys()][0]
    const set = name === undefined ? undefined : this.sets.get(name)
    if (!set) throw new TypeError(`unknown credential set ${JSON.stringify(update.set)}`)
    if (update.replace) {
      set.clear()
      for (const v of update.replace) set.add(v)
    }
    for (const v of update.accept ?? []) set.add(v)
    for (const v of update.revoke ?? []) set.delete(v)
    if (typeof update.authErrorCode === 'number') this.authErrorCode = update.authErrorCode
    if (typeof update.accessTokenTtlSeconds === 'number') {
      this.accessTokenTtlSeconds = update.accessTokenTtlSeconds
    }
    if (typeof update.rotateRefreshToken === 'boolean') {
      this.rotateRefreshToken = update.rotateRefreshToken
    }
  }

  /** Enqueues one-shot faults; a gated drip closes the gate again. */
  enqueue(faults: Fault[]): void {
    for (const f of faults) if (f.kind === 'drip' && f.gate) this.gate.close()
    this.queue.push(...faults)
  }

  /** Sets (or with `null` clears) the persistent fault. */
  setMode(fault: Fault | null): void {
    if (fault?.kind === 'drip' && fault.gate) this.gate.close()
    this.mode = fault
  }

  /** The fault for a request to `path`: the first matching queued one (consumed), else the mode. */
  takeFault(path: string): Fault | undefined {
    const matches = (f: Fault) => f.path === undefined || path.startsWith(f.path)
    const index = this.queue.findIndex(matches)
    if (index >= 0) return this.queue.splice(index, 1)[0]
    return this.mode && matches(this.mode) ? this.mode : undefined
  }

  /** Stores a request, numbering it. */
  record(request: Omit<RecordedRequest, 'seq'>): RecordedRequest {
    const recorded: RecordedRequest = { seq: ++this.#seq, ...request }
    this.requests.push(recorded)
    if (this.requests.length > MAX_RECORDED) this.requests.shift()
    return recorded
  }

  /** The JSON answered by `GET /__stub/state`. */
  view(): StubStateView {
    return {
      stub: this.stub,
      session: this.session,
      requestCount: this.requests.length,
      evilHits: this.evilHits,
      queuedFaults: [...this.queue],
      mode: this.mode,
      gate: { open: this.gate.open, waiting: this.gate.waiting },
      activeStreams: this.activeStreams,
      sets: Object.fromEntries([...this.sets].map(([k, v]) => [k, [...v]])),
    }
  }
}
