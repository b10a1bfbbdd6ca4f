import { expect } from 'vitest'
import { toBase64Url } from '../../src/encoding.ts'
import { base64Fragments } from '../../src/redact/base64.ts'

/**
 * Asserts `raw` (what a store holds) shows neither `secret` nor its base64 / base64url, at any
 * alignment, nor any 8-character run of it.
 */
export const expectNoPlaintext = (raw: string, secret: string): void => {
  expect(raw).not.toContain(secret)
  for (let i = 0; i + 8 <= secret.length; i++) expect(raw).not.toContain(secret.slice(i, i + 8))
  for (const fragment of base64Fragments(new TextEncoder().encode(secret))) {
    expect(raw).not.toContain(fragment)
    expect(raw).not.toContain(toBase64Url(fragment))
  }
}

/** A fake Fyers-like access token, made at test time (a JWT-shaped string, clearly not real). */
export const fakeAccessToken = (): string => {
  const part = (value: unknown): string =>
    toBase64Url(btoa(JSON.stringify(value))).replace(/=+$/, '')
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: 'fake', exp: Math.floor(Date.now() / 1000) + 3600, nonce: crypto.randomUUID() })}.${part(crypto.randomUUID())}`
}
