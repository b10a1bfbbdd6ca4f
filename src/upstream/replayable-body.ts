/**
 * The largest streamed request body keyline can send again (on a retry or a failover to the
 * next key): its first bytes are kept while they pass, and dropped as soon as the body grows
 * past this bound, after which a failed attempt is answered as it is.
 */
export const REPLAY_LIMIT_BYTES = 1024 * 1024

/**
 * A request body streamed to the upstream without being buffered, which can still be sent
 * again while it is small: each chunk read from the client is kept (up to `limit` bytes in
 * all), so a second attempt replays the kept chunks and then carries on reading the client's
 * stream where the first attempt left off. Once more than `limit` bytes have passed, the copy is
 * dropped and {@link replayable} is `false`: the body can be sent once only.
 */
export class ReplayableBody {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>
  readonly #limit: number
  #kept: Uint8Array[] | undefined = []
  #keptBytes = 0
  /** Chunks read from the client so far. */
  #chunks = 0
  #done = false
  #attempt = 0
  #failure: { readonly reason: unknown } | undefined

  constructor(body: ReadableStream<Uint8Array>, limit: number = REPLAY_LIMIT_BYTES) {
    this.#reader = body.getReader()
    this.#reader.closed.catch(() => {})
    this.#limit = limit
  }

  /** Whether another attempt can send the whole body again. */
  get replayable(): boolean {
    return this.#kept !== undefined && this.#failure === undefined
  }

  /**
   * Why reading the client's body failed (the client broke off its upload, or a limit the body
   * was given errored it), once it did: the attempt failed on the client's side, not the
   * upstream's.
   */
  get failure(): { readonly reason: unknown } | undefined {
    return this.#failure
  }

  /**
   * The body of one attempt. A stream handed out before stops where it is (the attempt it fed
   * is over); this one replays what was kept, then reads on. `undefined` when the body is no
   * longer replayable. `waiting` hears whom the attempt waits on: the `client` while it reads
   * the client's body, the `upstream` once it handed out a chunk (or the end) and waits for the
   * upstream to take more (or to answer). `failed`, when given, hears that the client's body
   * failed ({@link failure} says why), or that this attempt can no longer send all of it,
   * instead of the stream erroring: it aborts the call the stream feeds, so the runtime cancels
   * the stream rather than pumping an error into a request it is sending (workerd reports that
   * error as uncaught, and may end the upload as if it were complete).
   */
  stream(
    waiting?: (on: 'client' | 'upstream') => void,
    failed?: () => void
  ): ReadableStream<Uint8Array> | undefined {
    if (!this.replayable) return undefined
    const attempt = ++this.#attempt
    const tookOver = () => new Error('a newer attempt took over the request body')
    // How many chunks this attempt has sent: the kept ones first (read live, so a chunk an
    // older attempt was still reading when this one started is sent too), then the client's.
    let sent = 0
    const next = async (controller: ReadableStreamDefaultController<Uint8Array>) => {
      for (;;) {
        if (attempt !== this.#attempt) return controller.error(tookOver())
        if (sent < this.#chunks) {
          const kept = this.#kept?.[sent]
          // Not the client's failure, but this attempt cannot send the whole body either: it is
          // aborted, as a failed one is, so that no runtime ends the body as if it were whole.
          if (!kept) {
            return failed
              ? failed()
              : controller.error(new Error('the request body is no longer kept'))
          }
          sent++
          return controller.enqueue(kept)
        }
        if (this.#done) return controller.close()
        let read: ReadableStreamReadResult<Uint8Array>
        try {
          read = await this.#reader.read()
        } catch (reason) {
          this.#failure ??= { reason }
          return failed ? failed() : controller.error(reason)
        }
        if (read.done) {
          this.#done = true
          continue
        }
        // Reads resolve in order: an older attempt's pending read may have taken the chunk
        // before this one, which the loop then sends from what was kept.
        const index = this.#keep(read.value)
        if (attempt === this.#attempt && index === sent) {
          sent++
          return controller.enqueue(read.value)
        }
      }
    }
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        waiting?.('client')
        await next(controller)
        waiting?.('upstream')
      },
      cancel: () => {
        // An attempt that ends early leaves the client's body to the next one.
      },
    })
  }

  /** Keeps a chunk read from the client (while within the bound); returns its index. */
  #keep(chunk: Uint8Array): number {
    const index = this.#chunks++
    if (!this.#kept) return index
    this.#keptBytes += chunk.byteLength
    if (this.#keptBytes > this.#limit) this.#kept = undefined
    else this.#kept.push(chunk)
    return index
  }
}
