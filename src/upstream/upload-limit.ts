import type { EnvRecord } from '../env.ts'
import { KeylineError } from '../errors/keyline-error.ts'

/** The variable that caps the body of every passthrough route (`/v1/files` uploads…). */
export const MAX_UPLOAD_VARIABLE = 'KEYLINE_MAX_UPLOAD_BYTES'

/**
 * The default cap of a passthrough body: Anthropic's own Files API limit, 500 MB a file, taken
 * as 500 MiB (524 288 000 bytes) so a file at the limit fits with its multipart framing.
 */
export const DEFAULT_MAX_UPLOAD_BYTES = 500 * 1024 * 1024

/**
 * `KEYLINE_MAX_UPLOAD_BYTES` read: a positive whole number of bytes, `undefined` when unset
 * or empty, `null` when it is something else (then the default applies, and the entries warn
 * at start).
 */
export const parseMaxUpload = (raw: unknown): number | null | undefined => {
  if (typeof raw !== 'string' || raw.trim() === '') return undefined
  const text = raw.trim()
  if (!/^\d+$/.test(text)) return null
  const bytes = Number(text)
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null
}

let lastRaw: unknown
let lastMax = DEFAULT_MAX_UPLOAD_BYTES

/** The cap of a passthrough body in the request's environment (parsed once per value). */
export const maxUploadBytes = (env: EnvRecord): number => {
  const raw = env[MAX_UPLOAD_VARIABLE]
  if (raw !== lastRaw) {
    lastMax = parseMaxUpload(raw) ?? DEFAULT_MAX_UPLOAD_BYTES
    lastRaw = raw
  }
  return lastMax
}

/** The 413 `request_too_large` of a passthrough body over its cap. */
export const uploadTooLarge = (maxBytes: number): KeylineError =>
  new KeylineError(
    413,
    'request_too_large',
    `The request body is larger than ${maxBytes} bytes (${MAX_UPLOAD_VARIABLE})`
  )

/**
 * The client's body, passed on as it is read, that errors with {@link uploadTooLarge} as soon as
 * more than `maxBytes` have passed (a body without a `content-length`, or one that lies about
 * it): the upstream call fails on the client's side and the client gets the 413.
 */
export const limitedBody = (
  body: ReadableStream<Uint8Array>,
  maxBytes: number
): ReadableStream<Uint8Array> => {
  const reader = body.getReader()
  reader.closed.catch(() => {})
  let size = 0
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await reader.read()
        if (done) return controller.close()
        size += value.byteLength
        if (size > maxBytes) {
          const error = uploadTooLarge(maxBytes)
          reader.cancel(error).catch(() => {})
          return controller.error(error)
        }
        controller.enqueue(value)
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 1 }
  )
}
