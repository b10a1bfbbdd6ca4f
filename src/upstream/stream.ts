import { UpstreamError } from './upstream-error.ts'

type ReadResult = ReadableStreamReadResult<Uint8Array>

/**
 * One read of `reader`, or `'idle'` when nothing arrived within `idleTimeoutMs`. A read that
 * fails rejects with an {@link UpstreamError} of kind `network`.
 */
const readWithin = (
  reader: ReadableStreamDefaultReader<Uint8Array>,
  idleTimeoutMs: number,
  signal: AbortSignal | undefined
): Promise<ReadResult | 'idle'> =>
  // One promise and one timer per read (no race of two promises): whichever settles it first
  // wins. When the timer wins, the read is left behind: its later failure is nobody's to report.
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve('idle'), idleTimeoutMs)
    reader.read().then(
      (result) => {
        clearTimeout(timer)
        resolve(result)
      },
      (error: unknown) => {
        clearTimeout(timer)
        // The client went away (its signal aborts the upstream body too): no upstream failure.
        if (signal?.aborted) reject(signal.reason ?? error)
        else reject(new UpstreamError('network', 1, error))
      }
    )
  })

/** Options of {@link guardStream}. */
export interface GuardStreamOptions {
  /** Longest silence allowed between two chunks. */
  idleTimeoutMs: number
  /**
   * The client's signal: a read that fails once it aborted ends the stream as `cancelled`, not
   * as an upstream failure.
   */
  signal?: AbortSignal
  /** Rewrites the chunks on their way (e.g. a redactor's); each chunk passes unchanged without. */
  filter?: {
    push(chunk: Uint8Array): Uint8Array | undefined
    end(): Uint8Array | undefined
  }
  /**
   * Bytes to send before closing when the upstream stalls or breaks (e.g. an SSE `error` event).
   * Without them the stream errors with the {@link UpstreamError}.
   */
  failureTail?: (error: UpstreamError) => Uint8Array | undefined
  /** Called once when the stream ends: `undefined` on a clean end, else why it stopped. */
  onEnd?: (error: UpstreamError | 'cancelled' | undefined) => void
}

/**
 * Passes an upstream body through chunk by chunk, without buffering. When the upstream is
 * silent longer than `idleTimeoutMs`, or breaks mid-stream, it stops reading and either sends
 * `failureTail` (e.g. an SSE `error` event) and closes, or errors with an
 * {@link UpstreamError}; when the client goes away, it cancels the upstream read, which aborts
 * the upstream request.
 */
export const guardStream = (
  body: ReadableStream<Uint8Array>,
  options: GuardStreamOptions
): ReadableStream<Uint8Array> => {
  const reader = body.getReader()
  reader.closed.catch(() => {})
  let ended = false
  const end = (why: UpstreamError | 'cancelled' | undefined): void => {
    if (ended) return
    ended = true
    options.onEnd?.(why)
  }

  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, error: UpstreamError) => {
    reader.cancel(error).catch(() => {})
    // What the filter held back (an unfinished line) still goes out, before the tail.
    const rest = options.filter?.end()
    if (rest) controller.enqueue(rest)
    const tail = options.failureTail?.(error)
    if (tail) {
      controller.enqueue(tail)
      controller.close()
    } else {
      controller.error(error)
    }
    end(error)
  }

  return new ReadableStream<Uint8Array>({
    // Reads until there is something to pass on: a pull that enqueues nothing (the filter held a
    // chunk back, an unfinished line or escape) is not pulled again by every runtime (workerd
    // waits for a new read that never comes), so one pull never ends empty-handed.
    async pull(controller) {
      for (;;) {
        let result: ReadResult | 'idle'
        try {
          result = await readWithin(reader, options.idleTimeoutMs, options.signal)
        } catch (error) {
          if (ended) return
          if (error instanceof UpstreamError) return fail(controller, error)
          end('cancelled')
          reader.cancel(error).catch(() => {})
          controller.error(error)
          return
        }
        if (ended) return
        if (result === 'idle') return fail(controller, new UpstreamError('timeout', 1))
        if (result.done) {
          const rest = options.filter?.end()
          if (rest) controller.enqueue(rest)
          controller.close()
          end(undefined)
          return
        }
        const out = options.filter ? options.filter.push(result.value) : result.value
        if (out && out.byteLength > 0) {
          controller.enqueue(out)
          return
        }
      }
    },
    async cancel(reason) {
      end('cancelled')
      await reader.cancel(reason).catch(() => {})
    },
  })
}

const utf8 = new TextDecoder()

/**
 * The UTF-8 text of `chunks` (`size` bytes in all), decoded in one pass: a streaming decode
 * per chunk costs several times more on Node, and gives the same text.
 */
export const decodeChunks = (chunks: readonly Uint8Array[], size: number): string =>
  chunks.length === 0
    ? ''
    : utf8.decode(chunks.length === 1 ? chunks[0] : concatChunks(chunks, size))

/** `chunks` (`size` bytes in all) as one array. */
export const concatChunks = (
  chunks: readonly Uint8Array[],
  size: number
): Uint8Array<ArrayBuffer> => {
  const all = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    all.set(chunk, at)
    at += chunk.byteLength
  }
  return all
}

/**
 * Reads a whole body as text, decoded once at the end, failing with an {@link UpstreamError}
 * when the upstream falls silent for `idleTimeoutMs` (`timeout`) or breaks before the end
 * (`network`), and with the abort reason when the client's `signal` aborted.
 */
const readText = async (
  body: ReadableStream<Uint8Array>,
  idleTimeoutMs: number,
  signal: AbortSignal | undefined
): Promise<string> => {
  const reader = body.getReader()
  // A body that breaks rejects `closed` too; the failure is reported once, by the read below.
  reader.closed.catch(() => {})
  const chunks: Uint8Array[] = []
  let size = 0
  // One timer for the whole body, not one per read: when it fires, it looks how long the
  // upstream has been silent, and either gives up (cancelling the read) or waits the rest.
  let lastAt = Date.now()
  let timedOut = false
  let timer: ReturnType<typeof setTimeout> | undefined
  const arm = (ms: number): void => {
    timer = setTimeout(() => {
      const silent = Date.now() - lastAt
      if (silent < idleTimeoutMs) return arm(idleTimeoutMs - silent)
      timedOut = true
      reader.cancel().catch(() => {})
    }, ms)
  }
  arm(idleTimeoutMs)
  try {
    for (;;) {
      let result: ReadResult
      try {
        result = await reader.read()
      } catch (error) {
        if (timedOut) throw new UpstreamError('timeout', 1)
        // The client went away (its signal aborts the upstream body too): no upstream failure.
        if (signal?.aborted) throw signal.reason ?? error
        throw new UpstreamError('network', 1, error)
      }
      if (timedOut) throw new UpstreamError('timeout', 1)
      if (result.done) return decodeChunks(chunks, size)
      chunks.push(result.value)
      size += result.value.byteLength
      lastAt = Date.now()
    }
  } finally {
    clearTimeout(timer)
  }
}

/** The text of answers {@link readWhole} read, for {@link readBody}. */
const readAlready = new WeakMap<Response, string>()

/**
 * Reads a whole (non-streamed) upstream body as text, failing with an {@link UpstreamError}
 * when the upstream falls silent for `idleTimeoutMs` or breaks before the end, and with the
 * abort reason when the client's `signal` aborted. An answer {@link readWhole} read already
 * gives that text.
 */
export const readBody = async (
  response: Response,
  idleTimeoutMs: number,
  signal?: AbortSignal
): Promise<string> => {
  const kept = readAlready.get(response)
  if (kept !== undefined) return kept
  if (!response.body) return ''
  return readText(response.body, idleTimeoutMs, signal)
}

/**
 * Reads an answer's body whole now (see {@link readBody} for how a read fails), for an answer
 * that is relayed in one piece: a body that breaks half-way is then a failed attempt that can
 * be made again, nothing of it having reached the client. {@link readBody} then gives its text.
 */
export const readWhole = (
  response: Response,
  idleTimeoutMs: number,
  signal?: AbortSignal
): Promise<void> | undefined =>
  response.body
    ? readBody(response, idleTimeoutMs, signal).then((text) => {
        readAlready.set(response, text)
      })
    : undefined
