import { KeylineError } from '../errors/keyline-error.ts'

interface Issue {
  readonly path: readonly PropertyKey[]
  readonly message: string
}

/**
 * The `@hono/zod-validator` hook of every keyline route: a failed validation throws a 400
 * `invalid_request_error` whose `issues` name each bad field (paths and messages, no values).
 */
export const validationHook = (result: {
  success: boolean
  error?: { issues: readonly Issue[] }
}): void => {
  if (result.success) return
  const issues = (result.error?.issues ?? []).map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }))
  throw new KeylineError(400, 'invalid_request_error', 'The request is invalid', {
    details: { issues },
  })
}
