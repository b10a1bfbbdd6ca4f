import * as z from 'zod/mini'

/** One message of a Messages request: its role and its content, string or blocks. */
const message = z.looseObject({
  role: z.enum(['user', 'assistant'], { error: 'role must be "user" or "assistant"' }),
  content: z.union([z.string(), z.array(z.unknown())], {
    error: 'content must be a string or an array of content blocks',
  }),
})

/**
 * The basic shape of `POST /v1/messages`: `model`, `max_tokens`, `messages`, optional
 * `stream`. Unknown fields pass through untouched, so new API features keep working.
 */
export const messagesBody = z.looseObject(
  {
    model: z
      .string({ error: 'model must be a string' })
      .check(z.minLength(1, { error: 'model must not be empty' })),
    max_tokens: z
      .int({ error: 'max_tokens must be an integer' })
      .check(z.positive({ error: 'max_tokens must be positive' })),
    messages: z
      .array(message, { error: 'messages must be an array' })
      .check(z.minLength(1, { error: 'messages must not be empty' })),
    stream: z.optional(z.boolean({ error: 'stream must be a boolean' })),
  },
  { error: 'the body must be a JSON object' }
)

/** A validated Messages request body. */
export type MessagesBody = z.infer<typeof messagesBody>
