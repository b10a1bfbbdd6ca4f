import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createRedactor } from '../../src/redact/index.ts'
import {
  asciiSecretArb,
  build,
  decodeEscaped,
  ESCAPED_FORMS,
  embed,
  embedEscaped,
  embedLong,
  FORMS,
  LONG_FORMS,
  leaks,
  longLeaks,
  RUNS,
  secretArb,
  shape,
  TIMEOUT,
} from '../support/leak-fuzz.ts'

/**
 * Property: whatever structure a secret is embedded in, and in whichever form (raw,
 * percent-encoded, form-encoded, JSON-escaped once or twice, base64 or base64url at any byte
 * alignment, percent-encoded base64), the redacted output serialized with JSON.stringify holds
 * no run of 5 consecutive characters of the secret in any of those forms. A secret of 16+
 * characters shows its last 4 as the fingerprint, which is why runs of 5 are checked: 4 may
 * appear, 5 may not. Fillers use characters no secret uses, so a hit is never a coincidence.
 */

describe('redactor: property', () => {
  const redactor = createRedactor({ maxNodes: 100_000, maxStringLength: 1_000_000 })

  it(
    `no run of 8 characters of a key survives upper-cased, in hex, wrapped or truncated (${RUNS} runs)`,
    () => {
      fc.assert(
        fc.property(
          asciiSecretArb,
          fc.constantFrom(...LONG_FORMS),
          fc.integer({ min: 1, max: 76 }),
          fc.constantFrom('', ' ', 'key: ', '"', '\n'),
          (secret, form, width, around) => {
            const text = `${around}${embedLong(secret, form, width)}${around}`
            const out = JSON.stringify(redactor.withSecrets([secret]).redact({ text }))
            expect(longLeaks(out, [secret])).toEqual([])
          }
        ),
        { numRuns: RUNS }
      )
    },
    TIMEOUT
  )

  it(
    `no run of 8 characters of a key comes back from a JSON client when it is written in \\u escapes (${RUNS} runs)`,
    () => {
      fc.assert(
        fc.property(
          asciiSecretArb,
          fc.constantFrom(...ESCAPED_FORMS),
          fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
          fc.integer({ min: 0, max: 70 }),
          fc.constantFrom('', 'key ', '\\n', '\\u00e9 '),
          (secret, form, mask, cut, around) => {
            const redactor1 = redactor.withSecrets([secret])
            // A whole key, and a piece of it of 8 characters or more.
            const piece = secret.slice(Math.min(cut, secret.length - 8))
            for (const value of [secret, piece]) {
              const written = embedEscaped(value, form, mask)
              const body = `{"text":"${around}${written}${around}"}`
              const out = redactor1.redactBody(body)
              const once = (JSON.parse(out) as { text: string }).text
              const inner = once.slice(around.length ? JSON.parse(`"${around}"`).length : 0)
              expect(longLeaks(decodeEscaped(inner, form), [secret])).toEqual([])
            }
          }
        ),
        { numRuns: RUNS }
      )
    },
    TIMEOUT
  )

  it(
    `no run of 5 secret characters survives in any form (${RUNS} runs)`,
    () => {
      fc.assert(
        fc.property(fc.array(secretArb, { minLength: 1, maxLength: 3 }), shape, (secrets, s) => {
          const input = build(s, secrets)
          const out = JSON.stringify(redactor.withSecrets(secrets).redact(input))
          expect(leaks(out, secrets)).toEqual([])
        }),
        { numRuns: RUNS }
      )
    },
    TIMEOUT
  )

  it(
    'overlapping secrets leave no run of 5 characters of either',
    () => {
      fc.assert(
        fc.property(
          secretArb,
          secretArb,
          fc.nat(),
          fc.constantFrom(...FORMS),
          (a, b, cut, form) => {
            const chars = Array.from(a)
            const overlap = chars.slice(cut % chars.length).join('')
            const second = `${overlap}${b}`
            const text = embed(`${a}${b}`, form, '·')
            const out = JSON.stringify(redactor.withSecrets([a, second]).redact(`¦${text}¦`))
            expect(leaks(out, [a, second])).toEqual([])
          }
        ),
        { numRuns: Math.ceil(RUNS / 4) }
      )
    },
    TIMEOUT
  )

  it(
    'never throws, never mutates and always returns JSON-serializable data',
    () => {
      fc.assert(
        fc.property(
          fc.anything({
            withBigInt: true,
            withBoxedValues: true,
            withDate: true,
            withMap: true,
            withNullPrototype: true,
            withObjectString: true,
            withSet: true,
            withSparseArray: true,
            withTypedArray: true,
            maxDepth: 4,
          }),
          secretArb,
          (value, secret) => {
            const before = fc.stringify(value)
            const out = redactor.withSecrets([secret]).redact(value)
            expect(() => JSON.stringify(out)).not.toThrow()
            expect(fc.stringify(value)).toBe(before)
          }
        ),
        { numRuns: Math.ceil(RUNS / 4) }
      )
    },
    TIMEOUT
  )
})
