import { describe, expect, it } from 'vitest'
import { createRedactor } from '../../src/redact/index.ts'
import {
  base64,
  base64url,
  bytesToBase64,
  formEncode,
  jsonBody,
  randomSecret,
} from './redact-helpers.ts'

const long = (): string => `tst_${randomSecret(28)}`
const tail = (s: string): string => `…${Array.from(s).slice(-4).join('')}`

describe('redactor: secret forms', () => {
  it('replaces a long secret with its fingerprint and a short one with [REDACTED]', () => {
    const big = long()
    const small = randomSecret(8)
    const r = createRedactor({ secrets: [big, small] })
    expect(r.redactString(`a ${big} b ${small} c`)).toBe(`a ${tail(big)} b [REDACTED] c`)
  })

  it('replaces raw secrets holding regex metacharacters, quotes and unicode', () => {
    const s = `${randomSecret(6)}.*+?^\${}()|[]\\/"'%é中😀${randomSecret(6)}`
    const r = createRedactor({ secrets: [s] })
    const out = r.redactString(`<${s}>`)
    expect(out).toBe(`<${tail(s)}>`)
  })

  it('replaces the encodeURIComponent form, in either hex case', () => {
    const s = `${randomSecret(10)}/+= é&?${randomSecret(8)}`
    const r = createRedactor({ secrets: [s] })
    const encoded = encodeURIComponent(s)
    expect(r.redactString(`x=${encoded};`)).not.toContain(encoded)
    expect(r.redactString(`x=${encoded.toLowerCase()}`)).not.toContain(encoded.slice(10, 20))
    expect(r.redactString(`path/${encoded}/more`)).toBe(`path/${tail(s)}/more`)
  })

  it('replaces the form encoding (URLSearchParams and + for spaces)', () => {
    const s = `${randomSecret(8)} ~!'() ${randomSecret(8)}`
    const r = createRedactor({ secrets: [s] })
    expect(r.redactString(`data=${formEncode(s)}`)).toBe(`data=${tail(s)}`)
    const plus = encodeURIComponent(s).replace(/%20/g, '+')
    expect(r.redactString(`data=${plus}`)).toBe(`data=${tail(s)}`)
  })

  it('replaces the form inside a URL query as the URL parser encodes it', () => {
    const s = `${randomSecret(8)} "<>'${randomSecret(8)}`
    const r = createRedactor({ secrets: [s] })
    const url = new URL(`https://example.test/p?q=${s}`)
    expect(r.redact(url)).toBe(`https://example.test/p?q=${tail(s)}`)
  })

  it('replaces the JSON-escaped forms: \\", \\\\, control characters and \\uXXXX', () => {
    const s = `${randomSecret(6)}"\\\n\t\u0001é中/${randomSecret(6)}`
    const r = createRedactor({ secrets: [s] })
    const json = JSON.stringify({ k: s })
    expect(r.redactString(json)).toBe(JSON.stringify({ k: tail(s) }))
    const ascii = jsonBody(s).replace(
      /[^ -~]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
    )
    expect(r.redactString(`"${ascii}"`)).toBe(`"${tail(s)}"`)
    const upper = ascii.replace(/\\u([0-9a-f]{4})/g, (_, h: string) => `\\u${h.toUpperCase()}`)
    expect(upper).not.toBe(ascii)
    expect(r.redactString(`"${upper}"`)).toBe(`"${tail(s)}"`)
    expect(r.redactString(`"${jsonBody(s).replace(/\//g, '\\/')}"`)).toBe(`"${tail(s)}"`)
  })

  it('replaces a JSON string escaped twice (JSON inside a JSON string)', () => {
    const s = `${randomSecret(8)}"\\${randomSecret(8)}`
    const r = createRedactor({ secrets: [s] })
    const twice = JSON.stringify(JSON.stringify({ k: s }))
    expect(r.redactString(twice)).not.toContain(randomSecretCore(s))
    expect(r.redactString(twice)).toContain(tail(s))
  })

  it('replaces standard and base64url forms at all three byte alignments', () => {
    const s = `${randomSecret(20)}é`
    const r = createRedactor({ secrets: [s] })
    for (const prefix of ['', 'a', 'ab', 'abc', 'user:']) {
      const blob = base64(`${prefix}${s}!tail`)
      const out = r.redactString(`Basic ${blob}`)
      expect(out, prefix).toContain(tail(s))
      expect(out.length, prefix).toBeLessThan(blob.length)
      const url = base64url(`${prefix}${s}?`)
      expect(r.redactString(url), prefix).toContain(tail(s))
    }
  })

  it('catches a secret inside Basic base64(user:secret), leaving only edge characters', () => {
    const s = randomSecret(24)
    const r = createRedactor({ secrets: [s] })
    const header = `Basic ${base64(`alice:${s}`)}`
    const out = r.redactString(`sent ${header} upstream`)
    const stable = base64(`alice:${s}`).slice(8, -4)
    expect(out).not.toContain(stable.slice(0, 8))
    expect(out).toContain(tail(s))
  })

  it('replaces percent-encoded base64 (a base64 value in a query string)', () => {
    const s = `${randomSecret(12)}~~~???${randomSecret(12)}`
    expect(base64(`x:${s}`)).toMatch(/[+/]/)
    const r = createRedactor({ secrets: [s] })
    const encoded = encodeURIComponent(base64(`x:${s}`))
    expect(r.redactString(`?blob=${encoded}`)).toContain(tail(s))
  })

  it('ignores secrets shorter than minSecretLength inside text but masks them as whole values', () => {
    const tiny = randomSecret(3)
    const r = createRedactor({ secrets: [tiny] })
    expect(r.redactString(`x${tiny}y`)).toBe(`x${tiny}y`)
    expect(r.redact({ value: tiny })).toEqual({ value: '[REDACTED]' })
    expect(r.redactString(`https://h.test/?q=${tiny}&z=1`)).toBe('https://h.test/?q=[REDACTED]&z=1')
    expect(r.redact(new Headers({ 'x-thing': tiny }))).toEqual({ 'x-thing': '[REDACTED]' })
  })

  it('replaces overlapping secrets whole, leaving no part of either', () => {
    const a = randomSecret(20)
    const b = `${a.slice(8)}${randomSecret(14)}`
    const r = createRedactor({ secrets: [a, b] })
    const text = `${a.slice(0, 8)}${b}`
    const out = r.redactString(`[${text}]`)
    expect(out).toBe(`[${tail(a)}${tail(b)}]`)
    expect(r.redactString(`${b}`)).toBe(tail(b))
  })

  it('prefers the longest secret when one contains another', () => {
    const inner = randomSecret(10)
    const outer = `${randomSecret(6)}${inner}${randomSecret(6)}`
    const r = createRedactor({ secrets: [inner, outer] })
    expect(r.redactString(`${outer} ${inner}`)).toBe(`${tail(outer)} [REDACTED]`)
  })

  it('encodes raw bytes identically to btoa (helper sanity)', () => {
    expect(bytesToBase64(new Uint8Array([0xfb, 0xff]))).toBe('+/8=')
  })
})

/** The middle of a secret, which must never survive redaction. */
const randomSecretCore = (s: string): string => s.slice(4, 12)
