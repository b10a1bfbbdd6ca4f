/** The requests the load benchmarks send: one small Messages call, as a client of keyline would. */

/** A valid `POST /v1/messages` body; `stream: true` when `stream`. */
export const messagesBody = (stream = false): string =>
  JSON.stringify({
    model: 'claude-sonnet-4-5',
    max_tokens: 64,
    ...(stream ? { stream: true } : {}),
    messages: [{ role: 'user', content: 'Hello' }],
  })

/** Headers of a keyline client holding `clientToken`. */
export const clientHeaders = (clientToken: string): Record<string, string> => ({
  authorization: `Bearer ${clientToken}`,
  'content-type': 'application/json',
  'anthropic-version': '2023-06-01',
})
