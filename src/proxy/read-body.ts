import { guardStream } from './guard-stream.ts'
import { UpstreamError } from './upstream-error.ts'

/**
 * Reads a whole (non-streamed) upstream body as text, failing with an {@link UpstreamError}
 * when the upstream falls silent for `idleTimeoutMs` or breaks before the end.
 */
export const readBody = async (response: Response, idleTimeoutMs: number): Promise<string> => {
  if (!response.body) return ''
  let failure: UpstreamError | undefined
  const guarded = guardStream(response.body, {
    idleTimeoutMs,
    onEnd: (why) => {
      if (why instanceof UpstreamError) failure = why
    },
  })
  try {
    const text = await new Response(guarded).text()
    if (failure) throw failure
    return text
  } catch (error) {
    throw failure ?? error
  }
}
