import { describe, expect, it } from 'vitest'
import { encryptFromParts, Fernet, InvalidToken, MultiFernet } from '../../src/vault/fernet.ts'
import generate from '../fixtures/fernet/generate.json' with { type: 'json' }
import invalid from '../fixtures/fernet/invalid.json' with { type: 'json' }
import verify from '../fixtures/fernet/verify.json' with { type: 'json' }

const seconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000)
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

const rejects = async (work: Promise<unknown>): Promise<void> => {
  await expect(work).rejects.toBeInstanceOf(InvalidToken)
}

describe('Fernet: the specification vectors', () => {
  it.each(generate)(
    'generate: encrypting $src at $now with the given IV gives the token',
    async (v) => {
      const token = await encryptFromParts(
        new Fernet(v.secret),
        v.src,
        seconds(v.now),
        Uint8Array.from(v.iv)
      )
      expect(token).toBe(v.token)
    }
  )

  it.each(verify)('verify: the token decrypts to $src with ttl $ttl_sec at $now', async (v) => {
    const plain = await new Fernet(v.secret).decrypt(v.token, {
      ttl: v.ttl_sec,
      now: seconds(v.now),
    })
    expect(text(plain)).toBe(v.src)
  })

  it.each(invalid)('invalid: $desc is InvalidToken', async (v) => {
    const fernet = new Fernet(v.secret)
    await rejects(fernet.decrypt(v.token, { ttl: v.ttl_sec, now: seconds(v.now) }))
    await rejects(
      new MultiFernet([fernet]).decrypt(v.token, { ttl: v.ttl_sec, now: seconds(v.now) })
    )
  })
})

describe('Fernet', () => {
  it('round-trips text and bytes with a generated key', async () => {
    const fernet = new Fernet(Fernet.generateKey())
    expect(text(await fernet.decrypt(await fernet.encrypt('héllo ✓')))).toBe('héllo ✓')
    const bytes = crypto.getRandomValues(new Uint8Array(100))
    expect(await fernet.decrypt(await fernet.encrypt(bytes))).toEqual(bytes)
    expect(text(await fernet.decrypt(await fernet.encrypt('')))).toBe('')
  })

  it('makes a different token every time (random IV) that only its own key opens', async () => {
    const fernet = new Fernet(Fernet.generateKey())
    const [a, b] = [await fernet.encrypt('same'), await fernet.encrypt('same')]
    expect(a).not.toBe(b)
    await rejects(new Fernet(Fernet.generateKey()).decrypt(a))
  })

  it('generates 32-byte url-safe base64 keys with padding', () => {
    const key = Fernet.generateKey()
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}=$/)
    expect(Fernet.generateKey()).not.toBe(key)
  })

  it('refuses a bad key with a clear TypeError/RangeError, never InvalidToken', () => {
    const message = 'Fernet key must be 32 url-safe base64-encoded bytes.'
    expect(() => new Fernet('not base64!')).toThrow(TypeError)
    expect(() => new Fernet('not base64!')).toThrow(message)
    expect(() => new Fernet('c2hvcnQ=')).toThrow(RangeError)
    expect(() => new Fernet('')).toThrow(RangeError)
  })

  it('applies the TTL and the 60-second clock skew as Python does', async () => {
    const fernet = new Fernet(Fernet.generateKey())
    const t = 1_700_000_000
    const token = await fernet.encryptAtTime('x', t)
    expect(text(await fernet.decrypt(token, { ttl: 10, now: t + 10 }))).toBe('x')
    await rejects(fernet.decrypt(token, { ttl: 10, now: t + 11 }))
    expect(text(await fernet.decrypt(token, { ttl: 10, now: t - 60 }))).toBe('x')
    await rejects(fernet.decrypt(token, { ttl: 10, now: t - 61 }))
    expect(text(await fernet.decryptAtTime(token, 10, t + 5))).toBe('x')
    // Without a TTL no time rule applies (Python: time_info is None).
    expect(text(await fernet.decrypt(token, { now: t + 1e6 }))).toBe('x')
    expect(text(await fernet.decrypt(token, { now: t - 1e6 }))).toBe('x')
    expect(await fernet.extractTimestamp(token)).toBe(t)
  })

  it('refuses a tampered token at any byte, and non-canonical input', async () => {
    const fernet = new Fernet(Fernet.generateKey())
    const token = await fernet.encrypt('tamper me')
    for (const at of [0, 5, 12, 40, token.length - 5]) {
      const c = token[at] === 'A' ? 'B' : 'A'
      await rejects(fernet.decrypt(token.slice(0, at) + c + token.slice(at + 1)))
    }
    await rejects(fernet.decrypt(`${token} `))
    await rejects(fernet.decrypt(`${token.replace(/-/g, '+').replace(/_/g, '/')}$`))
    await rejects(fernet.decrypt(''))
    await rejects(fernet.decrypt('gA=='))
    await expect(fernet.decrypt(42 as unknown as string)).rejects.toBeInstanceOf(TypeError)
  })
})

describe('MultiFernet', () => {
  it('encrypts with the first key, decrypts with any, rotates to the first keeping the timestamp', async () => {
    const oldKey = new Fernet(Fernet.generateKey())
    const newKey = new Fernet(Fernet.generateKey())
    const multi = new MultiFernet([newKey, oldKey])
    const t = 1_600_000_000
    const legacy = await oldKey.encryptAtTime('secret', t)
    expect(text(await multi.decrypt(legacy))).toBe('secret')
    await rejects(newKey.decrypt(legacy))

    const rotated = await multi.rotate(legacy)
    expect(text(await newKey.decrypt(rotated))).toBe('secret')
    expect(await newKey.extractTimestamp(rotated)).toBe(t)
    await rejects(oldKey.decrypt(rotated))

    expect(text(await newKey.decrypt(await multi.encrypt('fresh')))).toBe('fresh')
    await rejects(new MultiFernet([newKey]).rotate(legacy))
    await rejects(multi.decrypt(legacy, { ttl: 10, now: t + 11 }))
    expect(() => new MultiFernet([])).toThrow(RangeError)
  })
})
