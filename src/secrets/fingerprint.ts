/** Shortest secret whose last characters may be shown; shorter ones show nothing. */
export const FINGERPRINT_MIN_LENGTH = 16

/** How many trailing characters a fingerprint shows. */
export const FINGERPRINT_VISIBLE = 4

/** Shown instead of a secret too short to fingerprint. */
export const REDACTED = '[REDACTED]'

/**
 * The only printable form of a secret: `…` and its last 4 characters, or `[REDACTED]`
 * when the secret is shorter than 16 characters (its tail would reveal too much of it).
 */
export const fingerprint = (value: string): string => {
  const chars = Array.from(value)
  if (chars.length < FINGERPRINT_MIN_LENGTH) return REDACTED
  return `…${chars.slice(-FINGERPRINT_VISIBLE).join('')}`
}
