import { describe, expect, it } from 'vitest'
import { undecodedCoding } from '../../src/upstream/fetch.ts'

// What each runtime's fetch hands back decoded, measured against a loopback server sending gzip
// bytes under each header value: workerd decodes one `gzip` or `br` as written; Node's undici
// also any case, stacks and `deflate` (never an empty item); Deno is in test/deno.
const workerd = globalThis.navigator?.userAgent === 'Cloudflare-Workers'
const decoded = workerd
  ? ['gzip', 'br']
  : ['gzip', 'br', 'deflate', 'GZIP', 'gzip, br', 'gzip,gzip']
const undecoded = [
  'zstd',
  'identity',
  'x-custom',
  'gzip,',
  ', gzip',
  'gzip, zstd',
  ...(workerd ? ['GZIP', 'x-gzip', 'gzip, br', 'deflate'] : []),
]

describe('undecodedCoding: which answers may still be encoded', () => {
  it('passes what the runtime decoded, and no content-encoding at all', () => {
    expect(undecodedCoding(new Headers())).toBe(false)
    for (const value of decoded) {
      expect(undecodedCoding(new Headers({ 'content-encoding': value })), value).toBe(false)
    }
  })

  it('refuses every other value: the body could pass the redaction unread', () => {
    for (const value of undecoded) {
      expect(undecodedCoding(new Headers({ 'content-encoding': value })), value).toBe(true)
    }
  })
})
