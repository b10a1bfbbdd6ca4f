/** Digests and constant-time comparison of secrets. */
import { toHex } from './encoding.ts'
import { sha256Bytes } from './sha256.ts'

const encoder = new TextEncoder()

/** Lower-case hex SHA-256 of a UTF-8 string. */
export const sha256Hex = (value: string): string => toHex(sha256(value))

/**
 * SHA-256 of a UTF-8 string, computed synchronously in JavaScript (`./sha256.ts`): for a token
 * a few dozen bytes long this costs a few microseconds, where `crypto.subtle.digest` is an
 * asynchronous round trip (on Node, through the thread pool) on every request.
 */
export const sha256 = (value: string): Uint8Array => sha256Bytes(encoder.encode(value))

/** Compares two byte arrays in time that depends only on their lengths. */
export const constantTimeEqual = (a: Uint8Array, b: Uint8Array): boolean => {
  let diff = a.length ^ b.length
  const length = Math.max(a.length, b.length)
  for (let i = 0; i < length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0)
  return diff === 0
}

/**
 * The index of `digest` among `digests`, or `-1`. Every digest is compared in full, so the time
 * taken tells nothing of which one matched, or how much.
 */
export const digestIndex = (digest: Uint8Array, digests: readonly Uint8Array[]): number => {
  let found = -1
  for (let i = 0; i < digests.length; i++) {
    const equal = constantTimeEqual(digest, digests[i] as Uint8Array)
    found = equal ? i : found
  }
  return found
}
