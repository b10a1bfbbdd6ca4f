import { describe, expect, it } from 'vitest'
import { sha256Bytes } from '../../src/sha256.ts'

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

describe('sha256Bytes', () => {
  it('gives the FIPS 180-4 test vectors', () => {
    expect(hex(sha256Bytes(utf8('')))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    )
    expect(hex(sha256Bytes(utf8('abc')))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    )
    expect(hex(sha256Bytes(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'
    )
  })

  it('equals crypto.subtle.digest for every length around the block boundaries', async () => {
    const data = new Uint8Array(300)
    for (let i = 0; i < data.length; i++) data[i] = (i * 151 + 7) & 0xff
    for (let length = 0; length <= data.length; length++) {
      const input = data.slice(0, length)
      const expected = new Uint8Array(await crypto.subtle.digest('SHA-256', input))
      expect(hex(sha256Bytes(input)), `length ${length}`).toBe(hex(expected))
    }
  })
})
