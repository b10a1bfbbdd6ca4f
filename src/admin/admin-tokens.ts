import { unusableReason } from '../secrets/placeholder.ts'
import type { EnvRecord } from '../secrets/read-value.ts'

/** The variables that hold the admin token: the current one, and the next one during its rotation. */
export const ADMIN_TOKEN_VARIABLES = ['ADMIN_TOKEN', 'ADMIN_TOKEN_NEW'] as const

/** A configured admin token and the variable it came from. */
export interface AdminToken {
  readonly variable: (typeof ADMIN_TOKEN_VARIABLES)[number]
  readonly value: string
}

/**
 * The usable admin tokens of `env`: trimmed, neither empty nor a placeholder such as
 * `changeme`. None means the admin API is off.
 */
export const adminTokens = (env: EnvRecord): AdminToken[] => {
  const tokens: AdminToken[] = []
  for (const variable of ADMIN_TOKEN_VARIABLES) {
    const raw = env[variable]
    if (typeof raw !== 'string') continue
    const value = raw.trim()
    if (unusableReason(value)) continue
    tokens.push({ variable, value })
  }
  return tokens
}
