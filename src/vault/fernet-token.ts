/**
 * The Fernet token (https://github.com/fernet/spec) on WebCrypto: url-safe base64 of
 * `0x80 ‖ timestamp (64-bit big-endian seconds) ‖ IV (16) ‖ AES-128-CBC/PKCS7 ciphertext ‖
 * HMAC-SHA256 (32)`, the HMAC taken over everything before it with the key's first 16 bytes,
 * the cipher keyed with its last 16. What `fernet.ts` shapes like Python's `cryptography.fernet`,
 * and what the token vault uses directly (without that API's other methods in the Worker).
 */
import { decodeBase64Url, encodeBase64Url } from '../encoding.ts'

/**
 * Every reason a token is refused — not base64, wrong version, too short, a bad HMAC, bad
 * padding, expired, or stamped too far in the future — is this one error, as in Python.
 */
export class InvalidToken extends Error {
  override readonly name = 'InvalidToken'
  constructor() {
    super('invalid Fernet token')
  }
}

const VERSION = 0x80
const HEADER = 1 + 8 + 16
const MAC = 32
const BLOCK = 16
const KEY_ERROR = 'Fernet key must be 32 url-safe base64-encoded bytes.'

/** Bytes on an `ArrayBuffer`, as WebCrypto takes them. */
export type Bytes = Uint8Array<ArrayBuffer>

/** The current time in seconds since the epoch, as tokens are stamped. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** A fresh random IV. */
export const randomIv = (): Bytes => crypto.getRandomValues(new Uint8Array(16))

/** The decoded token and its timestamp, before any check that needs the key. */
export interface ParsedToken {
  readonly data: Bytes
  readonly timestamp: number
}

/** Decodes `token`; {@link InvalidToken} when it is not base64 of a version 0x80 token. */
export const parseToken = (token: string): ParsedToken => {
  if (typeof token !== 'string') throw new TypeError('token must be a string')
  const data = decodeBase64Url(token)
  if (!data || data.length < 9 || data[0] !== VERSION) throw new InvalidToken()
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  return { data, timestamp: Number(view.getBigUint64(1)) }
}

interface Keys {
  readonly signing: CryptoKey
  readonly encryption: CryptoKey
}

/** One Fernet key. Its CryptoKeys are imported once, on first use, and reused. */
export class FernetKey {
  #raw: Bytes | undefined
  #keys: Promise<Keys> | undefined

  /** `key`: 32 bytes in url-safe base64; a TypeError/RangeError for anything else. */
  constructor(key: string) {
    if (typeof key !== 'string') throw new TypeError(KEY_ERROR)
    const raw = decodeBase64Url(key)
    if (!raw) throw new TypeError(KEY_ERROR)
    if (raw.length !== 32) throw new RangeError(KEY_ERROR)
    this.#raw = raw
  }

  #importKeys(): Promise<Keys> {
    if (!this.#keys) {
      const raw = this.#raw as Bytes
      this.#raw = undefined
      this.#keys = Promise.all([
        crypto.subtle.importKey('raw', raw.slice(0, 16), { name: 'HMAC', hash: 'SHA-256' }, false, [
          'sign',
          'verify',
        ]),
        crypto.subtle.importKey('raw', raw.slice(16), { name: 'AES-CBC' }, false, [
          'encrypt',
          'decrypt',
        ]),
      ]).then(([signing, encryption]) => ({ signing, encryption }))
    }
    return this.#keys
  }

  /** The token of `data` stamped with `time` (seconds), encrypted with `iv`. */
  async seal(data: Bytes, time: number, iv: Bytes): Promise<string> {
    const { signing, encryption } = await this.#importKeys()
    const ciphertext = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-CBC', iv }, encryption, data)
    )
    const token = new Uint8Array(HEADER + ciphertext.length + MAC)
    token[0] = VERSION
    new DataView(token.buffer).setBigUint64(1, BigInt(time))
    token.set(iv, 9)
    token.set(ciphertext, HEADER)
    const signed = token.subarray(0, HEADER + ciphertext.length)
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', signing, signed))
    token.set(mac, HEADER + ciphertext.length)
    return encodeBase64Url(token)
  }

  /** Checks the HMAC in constant time (WebCrypto's verify); throws {@link InvalidToken}. */
  async verify(data: Bytes): Promise<Keys> {
    const keys = await this.#importKeys()
    if (data.length < MAC) throw new InvalidToken()
    const signed = data.subarray(0, data.length - MAC)
    const mac = data.subarray(data.length - MAC)
    if (!(await crypto.subtle.verify('HMAC', keys.signing, mac, signed))) throw new InvalidToken()
    return keys
  }

  /** The plaintext of a parsed token, once its HMAC is verified; else {@link InvalidToken}. */
  async open({ data }: ParsedToken): Promise<Bytes> {
    const { encryption } = await this.verify(data)
    const ciphertext = data.subarray(HEADER, data.length - MAC)
    if (data.length < HEADER + MAC || ciphertext.length === 0 || ciphertext.length % BLOCK !== 0) {
      throw new InvalidToken()
    }
    const iv = data.subarray(9, HEADER)
    try {
      // WebCrypto's AES-CBC removes and checks the PKCS7 padding.
      return new Uint8Array(
        await crypto.subtle.decrypt({ name: 'AES-CBC', iv }, encryption, ciphertext)
      )
    } catch {
      throw new InvalidToken()
    }
  }
}

/** The plaintext of a parsed token under the first of `keys` that accepts it; else {@link InvalidToken}. */
export const openWithAny = async (
  keys: readonly FernetKey[],
  parsed: ParsedToken
): Promise<Bytes> => {
  for (const key of keys) {
    try {
      return await key.open(parsed)
    } catch (error) {
      if (!(error instanceof InvalidToken)) throw error
    }
  }
  throw new InvalidToken()
}
