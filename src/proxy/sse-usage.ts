/** Token usage seen in an Anthropic response, streamed or not. */
export interface TokenUsage {
  input: number
  output: number
}

const add = (usage: TokenUsage, raw: unknown): void => {
  if (!raw || typeof raw !== 'object') return
  const u = raw as Record<string, unknown>
  if (typeof u.input_tokens === 'number') usage.input = Math.max(usage.input, u.input_tokens)
  if (typeof u.output_tokens === 'number') usage.output = Math.max(usage.output, u.output_tokens)
}

/** Reads `usage` from a non-streamed Messages response body. */
export const usageOfMessage = (body: unknown): TokenUsage | undefined => {
  if (!body || typeof body !== 'object' || !('usage' in body)) return undefined
  const usage = { input: 0, output: 0 }
  add(usage, (body as { usage: unknown }).usage)
  return usage
}

/**
 * Follows a Messages SSE stream as it passes and collects usage from `message_start` (input
 * tokens) and `message_delta` (output tokens), without changing a byte of it.
 */
export class SseUsageTracker {
  readonly usage: TokenUsage = { input: 0, output: 0 }
  readonly #decoder = new TextDecoder()
  #pending = ''
  #seen = false

  /** Feeds one chunk of the stream. */
  push(chunk: Uint8Array): void {
    this.#pending += this.#decoder.decode(chunk, { stream: true })
    const lines = this.#pending.split('\n')
    this.#pending = lines.pop() ?? ''
    if (this.#pending.length > 1_000_000) this.#pending = ''
    for (const line of lines) {
      if (!line.startsWith('data:')) continue
      const data = line.slice(5).trim()
      if (!data.includes('"usage"')) continue
      try {
        const event = JSON.parse(data) as {
          type?: string
          message?: { usage?: unknown }
          usage?: unknown
        }
        if (event.type === 'message_start') add(this.usage, event.message?.usage)
        if (event.type === 'message_delta') add(this.usage, event.usage)
        this.#seen = true
      } catch {
        // a partial or foreign line: usage is best effort
      }
    }
  }

  /** The usage seen, or `undefined` when the stream carried none. */
  result(): TokenUsage | undefined {
    return this.#seen ? this.usage : undefined
  }
}
