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
  #done = false
  #attempt = 0

  constructor(body: ReadableStream<Uint8Array>, limit: number = REPLAY_LIMIT_BYTES) {
    this.#reader = body.getReader()
    this.#reader.closed.catch(() => {})
    this.#limit = limit
  }

  /** Whether another attempt can send the whole body again. */
  get replayable(): boolean {
    return this.#kept !== undefined || this.#attempt === 0
  }

  /**
   * The body of one attempt. A stream handed out before stops where it is (the attempt it fed
   * is over); this one replays what was kept, then reads on. `undefined` when the body is no
   * longer replayable.
   */
  stream(): ReadableStream<Uint8Array> | undefined {
    if (!this.replayable) return undefined
    const attempt = ++this.#attempt
    const kept = this.#kept ? [...this.#kept] : []
    let index = 0
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (attempt !== this.#attempt) {
          controller.error(new Error('a newer attempt took over the request body'))
          return
        }
        const replayed = kept[index++]
        if (replayed) {
          controller.enqueue(replayed)
          return
        }
        if (this.#done) {
          controller.close()
          return
        }
        const { done, value } = await this.#reader.read()
        if (done) {
          this.#done = true
          controller.close()
          return
        }
        this.#keep(value)
        // A newer attempt may have started while this read was pending: the chunk is kept for it.
        if (attempt === this.#attempt) controller.enqueue(value)
        else controller.error(new Error('a newer attempt took over the request body'))
      },
      cancel: () => {
        // An attempt that ends early leaves the client's body to the next one, or to `release`.
      },
    })
  }

  #keep(chunk: Uint8Array): void {
    if (!this.#kept) return
    this.#keptBytes += chunk.byteLength
    if (this.#keptBytes > this.#limit) this.#kept = undefined
    else this.#kept.push(chunk)
  }
}
