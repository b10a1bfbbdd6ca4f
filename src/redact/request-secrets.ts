import type { EnvRecord } from '../secrets/read-value.ts'
import { collectSecretValues, envSecretValues } from './collect-secrets.ts'

/**
 * Every secret value one request may hold: each provider credential in each slot (promoted
 * and refreshed values included, from the snapshot), and every credential-named variable of
 * the environment (client tokens, admin tokens, vault keys) — comma-separated lists such as
 * `KEYLINE_CLIENT_TOKENS` split into their entries as well.
 */
export const requestSecretValues = (env: EnvRecord, snapshot?: unknown): string[] => {
  const values = new Set(collectSecretValues(snapshot))
  for (const value of envSecretValues(env as Record<string, unknown>)) {
    values.add(value)
    if (!value.includes(',')) continue
    for (const entry of value.split(',')) {
      const trimmed = entry.trim()
      if (trimmed && !trimmed.startsWith('sha256:')) values.add(trimmed)
    }
  }
  return [...values]
}
