import { sha256 } from './constant-time.ts'

/** Why `KEYLINE_CLIENT_TOKENS` configures no usable token. */
export type ClientTokensProblem = 'missing' | 'invalid_entry'

/** The accepted client tokens, held as SHA-256 digests only. */
export interface ClientTokens {
  readonly digests: readonly Uint8Array[]
  /** Plaintext entries, for the redactor (never logged or sent). */
  readonly plaintext: readonly string[]
  readonly problem?: ClientTokensProblem
}

const HEX_DIGEST = /^sha256:([0-9a-f]{64})$/i
const MIN_PLAINTEXT_LENGTH = 16

const fromHex = (hex: string): Uint8Array =>
  Uint8Array.from(hex.match(/../g) ?? [], (byte) => Number.parseInt(byte, 16))

/**
 * Parses `KEYLINE_CLIENT_TOKENS`: comma-separated tokens, each either plaintext (at least 16
 * characters) or `sha256:<64 hex>` holding the token's SHA-256 instead of the token itself.
 * Any malformed entry disables every token, so a typo never half-opens the proxy.
 */
export const parseClientTokens = async (raw: string | undefined): Promise<ClientTokens> => {
  const entries = (raw ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  if (entries.length === 0) return { digests: [], plaintext: [], problem: 'missing' }
  const digests: Uint8Array[] = []
  const plaintext: string[] = []
  for (const entry of entries) {
    const hashed = HEX_DIGEST.exec(entry)
    if (hashed?.[1]) {
      digests.push(fromHex(hashed[1]))
    } else if (entry.startsWith('sha256:') || entry.length < MIN_PLAINTEXT_LENGTH) {
      return { digests: [], plaintext: [], problem: 'invalid_entry' }
    } else {
      digests.push(sha256(entry))
      plaintext.push(entry)
    }
  }
  return { digests, plaintext }
}
