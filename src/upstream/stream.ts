import { UpstreamError } from './upstream-error.ts'

type ReadResult = ReadableStreamReadResult<Uint8Array>

/** How a relayed stream ended, as its reader saw it: read to its end, cancelled, or broken. */
export type StreamEnd = { how: 'done' } | { how: 'cancelled' } | { how: 'errored'; error: unknown }

/** Who hears how a stream {@link guardStream} made ends, and how it ended once it has. */
interface EndWatch {
  readonly listeners: ((end: StreamEnd) => void)[]
  ended?: StreamEnd
}
const endWatches = new WeakMap<ReadableStream, EndWatch>()

/**
 * Tells `listener` once how `stream` ends, when it is one {@link guardStream} made: `true`; else
 * `false` (the caller wraps the stream to see its end itself). A relayed answer's stream is
 * watched so, not wrapped once more: a stream layer costs a promise or two per chunk.
 */
export const onStreamEnd = (
  stream: ReadableStream,
  listener: (end: StreamEnd) => void
): boolean => {
  const watch = endWatches.get(stream)
  if (!watch) return false
  // It may have ended before anyone asked: an empty or broken upstream body is read to its end
  // while the answer is still on its way out through the middleware.
  if (watch.ended) listener(watch.ended)
  else watch.listeners.push(listener)
  return true
}

/**
 * A reader of an upstream body with one idle timer for all its reads (timers are not free):
 * {@link WatchedReader.read} fails with an {@link UpstreamError}, `timeout` once the upstream
 * has been silent `idleTimeoutMs` while a read waited on it and `network` when the body breaks,
 * or with the abort reason when the client's `signal` aborted (the client went away: no
 * upstream failure). When the timer fires it looks how long the upstream has been silent, and
 * either gives up (cancelling the read) or waits the rest.
 */
interface WatchedReader {
  read(): Promise<ReadResult>
  /** No read waits on the upstream (the client has a chunk to read: its silence is its own). */
  paused(): void
  stop(): void
  cancel(reason?: unknown): Promise<void>
}

const watchedReader = (
  body: ReadableStream<Uint8Array>,
  idleTimeoutMs: number,
  signal: AbortSignal | undefined
): WatchedReader => {
  const reader = body.getReader()
  // A body that breaks rejects `closed` too; the failure is reported once, by the read.
  reader.closed.catch(() => {})
  let lastAt = 0
  let reading = false
  let timedOut = false
  let timer: ReturnType<typeof setTimeout> | undefined
  const check = (): void => {
    const silent = reading ? Date.now() - lastAt : 0
    timer = silent < idleTimeoutMs ? setTimeout(check, idleTimeoutMs - silent) : undefined
    if (timer) return
    timedOut = true
    reader.cancel(new UpstreamError('timeout', 1)).catch(() => {})
  }
  return {
    async read() {
      lastAt = Date.now()
      reading = true
      timer ??= setTimeout(check, idleTimeoutMs)
      let result: ReadResult
      try {
        result = await reader.read()
      } catch (error) {
        if (timedOut) throw new UpstreamError('timeout', 1)
        if (signal?.aborted) throw signal.reason ?? error
        throw new UpstreamError('network', 1, error)
      }
      // A cancelled read ends as if the body had.
      if (timedOut) throw new UpstreamError('timeout', 1)
      return result
    },
    paused() {
      reading = false
    },
    stop() {
      clearTimeout(timer)
      timer = undefined
    },
    cancel: (reason) => reader.cancel(reason).catch(() => {}),
  }
}

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
  const upstream = watchedReader(body, options.idleTimeoutMs, options.signal)
  const watch: EndWatch = { listeners: [] }
  let ended = false
  /** Once: `why` for `onEnd`, `result` (what the client's reader saw) for the listeners. */
  const end = (why: UpstreamError | 'cancelled' | undefined, result: StreamEnd): void => {
    if (ended) return
    ended = true
    upstream.stop()
    watch.ended = result
    try {
      options.onEnd?.(why)
    } finally {
      for (const listener of watch.listeners.splice(0)) listener(result)
    }
  }

  const fail = (
    controller: ReadableStreamDefaultController<Uint8Array>,
    failure: UpstreamError
  ) => {
    upstream.cancel(failure)
    // What the filter held back (an unfinished line) still goes out, before the tail.
    const rest = options.filter?.end()
    if (rest) controller.enqueue(rest)
    const tail = options.failureTail?.(failure)
    if (tail) {
      controller.enqueue(tail)
      controller.close()
      end(failure, { how: 'done' })
    } else {
      controller.error(failure)
      end(failure, { how: 'errored', error: failure })
    }
  }

  const stream = new ReadableStream<Uint8Array>({
    // Reads until there is something to pass on: a pull that enqueues nothing (the filter held a
    // chunk back, an unfinished line or escape) is not pulled again by every runtime (workerd
    // waits for a new read that never comes), so one pull never ends empty-handed.
    async pull(controller) {
      for (;;) {
        let result: ReadResult
        try {
          result = await upstream.read()
        } catch (failure) {
          if (ended) return
          if (failure instanceof UpstreamError) return fail(controller, failure)
          // The client went away: what its reader saw is its own cancellation.
          upstream.cancel(failure)
          controller.error(failure)
          end('cancelled', { how: 'cancelled' })
          return
        }
        if (ended) return
        if (result.done) {
          const rest = options.filter?.end()
          if (rest) controller.enqueue(rest)
          controller.close()
          end(undefined, { how: 'done' })
          return
        }
        const out = options.filter ? options.filter.push(result.value) : result.value
        if (out && out.byteLength > 0) {
          controller.enqueue(out)
          upstream.paused()
          return
        }
      }
    },
    async cancel(reason) {
      end('cancelled', { how: 'cancelled' })
      await upstream.cancel(reason)
    },
  })
  endWatches.set(stream, watch)
  return stream
}

const utf8 = new TextDecoder()

/** The UTF-8 text of `bytes` (one shared decoder: no state is kept between calls). */
export const decodeUtf8 = (bytes: Uint8Array): string => utf8.decode(bytes)

/** `chunks` (`size` bytes in all) as one array: the chunk itself when there is one. */
export const concatChunks = (
  chunks: readonly Uint8Array[],
  size: number
): Uint8Array<ArrayBuffer> => {
  if (chunks.length === 1) return chunks[0] as Uint8Array<ArrayBuffer>
  const all = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    all.set(chunk, at)
    at += chunk.byteLength
  }
  return all
}

/** A body read whole: its bytes, and their UTF-8 text (decoded once, at the end). */
export interface WholeBody {
  readonly bytes: Uint8Array<ArrayBuffer>
  readonly text: string
}

/**
 * Reads a whole body, decoded once at the end, failing with an {@link UpstreamError} when the
 * upstream falls silent for `idleTimeoutMs` (`timeout`) or breaks before the end (`network`),
 * and with the abort reason when the client's `signal` aborted.
 */
const readAll = async (
  body: ReadableStream<Uint8Array>,
  idleTimeoutMs: number,
  signal: AbortSignal | undefined
): Promise<WholeBody> => {
  const upstream = watchedReader(body, idleTimeoutMs, signal)
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      const result = await upstream.read()
      if (result.done) {
        const bytes = concatChunks(chunks, size)
        return { bytes, text: utf8.decode(bytes) }
      }
      chunks.push(result.value)
      size += result.value.byteLength
    }
  } finally {
    upstream.stop()
  }
}

/** What {@link readWhole} read of answers, for {@link readBody}. */
const readAlready = new WeakMap<Response, WholeBody>()

/**
 * Reads a whole (non-streamed) upstream body, failing with an {@link UpstreamError} when the
 * upstream falls silent for `idleTimeoutMs` or breaks before the end, and with the abort reason
 * when the client's `signal` aborted. An answer {@link readWhole} read already gives what it read.
 */
export const readBody = async (
  response: Response,
  idleTimeoutMs: number,
  signal?: AbortSignal
): Promise<WholeBody> => {
  const kept = readAlready.get(response)
  if (kept !== undefined) return kept
  // A new empty array each time: a runtime may detach a body's buffer as it sends it.
  if (!response.body) return { bytes: new Uint8Array(0), text: '' }
  return readAll(response.body, idleTimeoutMs, signal)
}

/**
 * Reads an answer's body whole now (see {@link readBody} for how a read fails), for an answer
 * that is relayed in one piece: a body that breaks half-way is then a failed attempt that can
 * be made again, nothing of it having reached the client. {@link readBody} then gives it.
 */
export const readWhole = (
  response: Response,
  idleTimeoutMs: number,
  signal?: AbortSignal
): Promise<void> | undefined =>
  response.body
    ? readBody(response, idleTimeoutMs, signal).then((body) => {
        readAlready.set(response, body)
      })
    : undefined
