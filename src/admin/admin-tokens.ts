import { unusableReason } from '../secrets/placeholder.ts'
import type { EnvRecord } from '../secrets/read-value.ts'

/** The variables that hold the admin token: the current one, and the next one during its rotation. */
export const ADMIN_TOKEN_VARIABLES = ['ADMIN_TOKEN', 'ADMIN_TOKEN_NEW'] as const

/** Shortest admin token accepted: a shorter one leaves the admin API off. */
export const MIN_ADMIN_TOKEN_LENGTH = 16

/** A configured admin token and the variable it came from. */
export interface AdminToken {
  readonly variable: (typeof ADMIN_TOKEN_VARIABLES)[number]
  readonly value: string
}

/**
 * The usable admin tokens of `env`: trimmed, at least 16 characters, neither empty nor a
 * placeholder such as `changeme`. None means the admin API is off.
 */
export const adminTokens = (env: EnvRecord): AdminToken[] => {
  const tokens: AdminToken[] = []
  for (const variable of ADMIN_TOKEN_VARIABLES) {
    const raw = env[variable]
    if (typeof raw !== 'string') continue
    const value = raw.trim()
    if (unusableReason(value) || value.length < MIN_ADMIN_TOKEN_LENGTH) continue
    tokens.push({ variable, value })
  }
  return tokens
}
