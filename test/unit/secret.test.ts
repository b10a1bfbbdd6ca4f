import { describe, expect, it } from 'vitest'
import { fingerprint, REDACTED } from '../../src/secrets/fingerprint.ts'
import { Secret } from '../../src/secrets/secret.ts'
import { leakedPiece, randomSecret } from '../support/secret-pieces.ts'

const newValue = (): string => randomSecret()

const secretOf = (value: string): Secret =>
  new Secret(value, {
    provider: 'anthropic',
    credential: 'apiKey',
    slot: 'current',
    source: 'env:ANTHROPIC_API_KEY',
    generation: 3,
  })

/** Fails when `text` holds any 5 consecutive characters of `value` outside the fingerprint. */
const expectNoLeak = (text: string, value: string): void => {
  expect(leakedPiece(text, value)).toBeUndefined()
}

describe('fingerprint', () => {
  it('shows … and the last 4 characters of a secret of 16 characters or more', () => {
    expect(fingerprint('0123456789abcdef')).toBe('…cdef')
    const value = newValue()
    expect(fingerprint(value)).toBe(`…${value.slice(-4)}`)
  })

  it('shows [REDACTED] for a secret shorter than 16 characters', () => {
    expect(fingerprint('0123456789abcde')).toBe(REDACTED)
    expect(fingerprint('')).toBe(REDACTED)
    expect(fingerprint('abcd')).toBe(REDACTED)
  })

  it('counts characters, not UTF-16 units, and never splits one', () => {
    // 15 code points, 30 UTF-16 units: still too short to show a tail.
    expect(fingerprint('🔑'.repeat(15))).toBe(REDACTED)
    expect(fingerprint(`${'a'.repeat(12)}🔑🔑🔑🔑`)).toBe('…🔑🔑🔑🔑')
  })
})

describe('Secret', () => {
  it('JSON.stringify shows its info and fingerprint, never the value', () => {
    const value = newValue()
    const secret = secretOf(value)
    const json = JSON.stringify({ nested: [secret] })
    expectNoLeak(json, value)
    expect(JSON.parse(json).nested[0]).toEqual({
      provider: 'anthropic',
      credential: 'apiKey',
      slot: 'current',
      source: 'env:ANTHROPIC_API_KEY',
      fingerprint: `…${value.slice(-4)}`,
      generation: 3,
    })
  })

  it('String(), template literals and concatenation show the fingerprint', () => {
    const value = newValue()
    const secret = secretOf(value)
    for (const text of [String(secret), `${secret}`, `key=${secret}`, secret.toLocaleString()]) {
      expectNoLeak(text, value)
      expect(text).toContain(`…${value.slice(-4)}`)
    }
  })

  it('structuredClone keeps the info and drops the value', () => {
    const value = newValue()
    const clone = structuredClone(secretOf(value)) as unknown as Record<string, unknown>
    expectNoLeak(JSON.stringify(clone), value)
    expect(clone.fingerprint).toBe(`…${value.slice(-4)}`)
    expect(clone.reveal).toBeUndefined()
  })

  it('own properties, spreading and entries expose no value', () => {
    const value = newValue()
    const secret = secretOf(value)
    expectNoLeak(JSON.stringify([{ ...secret }, Object.entries(secret)]), value)
    expect(Object.isFrozen(secret)).toBe(true)
  })

  it('reveal() returns the value', () => {
    const value = newValue()
    expect(secretOf(value).reveal()).toBe(value)
  })

  it('a short secret shows nothing of itself', () => {
    const secret = secretOf('sk-short-1234')
    expect(secret.fingerprint).toBe(REDACTED)
    expect(String(secret)).not.toContain('1234')
    expect(JSON.stringify(secret)).not.toContain('1234')
  })
})
