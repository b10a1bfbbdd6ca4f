/**
 * Fernet (https://github.com/fernet/spec) on WebCrypto, shaped like Python's
 * `cryptography.fernet`: a token is url-safe base64 of
 * `0x80 ‖ timestamp (64-bit big-endian seconds) ‖ IV (16) ‖ AES-128-CBC/PKCS7 ciphertext ‖
 * HMAC-SHA256 (32)`, the HMAC taken over everything before it with the key's first 16 bytes,
 * the cipher keyed with its last 16. Tokens interoperate with Python in both directions.
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

/** Options of {@link Fernet.decrypt}. */
export interface DecryptOptions {
  /**
   * Maximum age in seconds: the token is refused when `timestamp + ttl < now`, and (as in
   * Python, only when a TTL is given) when it is stamped more than 60 s after `now`.
   * @default undefined — any age
   */
  readonly ttl?: number
  /**
   * The current time in seconds since the epoch, for the TTL checks.
   * @default Math.floor(Date.now() / 1000)
   */
  readonly now?: number
}

const VERSION = 0x80
/** Python's `_MAX_CLOCK_SKEW`: a token may be stamped up to this many seconds in the future. */
const MAX_CLOCK_SKEW = 60
const HEADER = 1 + 8 + 16
const MAC = 32
const BLOCK = 16
const KEY_ERROR = 'Fernet key must be 32 url-safe base64-encoded bytes.'
const encoder = new TextEncoder()

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

type Bytes = Uint8Array<ArrayBuffer>

const toBytes = (data: string | Uint8Array): Bytes => {
  if (typeof data === 'string') return encoder.encode(data)
  if (data instanceof Uint8Array) return new Uint8Array(data)
  throw new TypeError('Fernet data must be a string or a Uint8Array')
}

const checkTime = (time: number): number => {
  if (!Number.isSafeInteger(time) || time < 0) {
    throw new RangeError('Fernet time must be a non-negative integer number of seconds')
  }
  return time
}

/** The decoded token and its timestamp, before any check that needs the key. */
interface Parsed {
  readonly data: Bytes
  readonly timestamp: number
}

const parse = (token: string): Parsed => {
  if (typeof token !== 'string') throw new TypeError('token must be a string')
  const data = decodeBase64Url(token)
  if (!data || data.length < 9 || data[0] !== VERSION) throw new InvalidToken()
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  return { data, timestamp: Number(view.getBigUint64(1)) }
}

/** Python's `_decrypt_data` time rules; `undefined` time info means no TTL. */
const checkAge = (timestamp: number, ttl: number | undefined, now: number | undefined): void => {
  if (ttl === undefined) return
  if (typeof ttl !== 'number' || Number.isNaN(ttl)) throw new TypeError('ttl must be a number')
  const current = now ?? nowSeconds()
  if (timestamp + ttl < current) throw new InvalidToken()
  if (current + MAX_CLOCK_SKEW < timestamp) throw new InvalidToken()
}

interface Keys {
  readonly signing: CryptoKey
  readonly encryption: CryptoKey
}

let encryptFromPartsOf: (fernet: Fernet, data: Bytes, time: number, iv: Bytes) => Promise<string>
let decryptParsedOf: (fernet: Fernet, parsed: Parsed) => Promise<Bytes>

/** One Fernet key. The CryptoKeys are imported once, on first use, and reused. */
export class Fernet {
  #raw: Bytes | undefined
  #keys: Promise<Keys> | undefined

  /** `key`: 32 bytes in url-safe base64, as {@link Fernet.generateKey} and Python make them. */
  constructor(key: string) {
    if (typeof key !== 'string') throw new TypeError(KEY_ERROR)
    const raw = decodeBase64Url(key)
    if (!raw) throw new TypeError(KEY_ERROR)
    if (raw.length !== 32) throw new RangeError(KEY_ERROR)
    this.#raw = raw
  }

  /** A fresh random key, url-safe base64 with padding (44 characters). */
  static generateKey(): string {
    return encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)))
  }

  /** A token of `data` (text is UTF-8 encoded) stamped with the current time. */
  encrypt(data: string | Uint8Array): Promise<string> {
    return this.encryptAtTime(data, nowSeconds())
  }

  /** A token of `data` stamped with `time` (seconds since the epoch). */
  encryptAtTime(data: string | Uint8Array, time: number): Promise<string> {
    const bytes = toBytes(data)
    checkTime(time)
    return this.#encrypt(bytes, time, crypto.getRandomValues(new Uint8Array(16)))
  }

  /** The plaintext of `token`; rejects with {@link InvalidToken} for any bad token. */
  async decrypt(token: string, options: DecryptOptions = {}): Promise<Uint8Array> {
    const parsed = parse(token)
    checkAge(parsed.timestamp, options.ttl, options.now)
    return this.#decrypt(parsed)
  }

  /** Python's `decrypt_at_time`: {@link decrypt} with `ttl` at `currentTime`. */
  decryptAtTime(token: string, ttl: number, currentTime: number): Promise<Uint8Array> {
    return this.decrypt(token, { ttl, now: currentTime })
  }

  /** The timestamp of `token` (seconds), once its HMAC is verified. */
  async extractTimestamp(token: string): Promise<number> {
    const parsed = parse(token)
    await this.#verify(parsed.data)
    return parsed.timestamp
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

  async #encrypt(data: Bytes, time: number, iv: Bytes): Promise<string> {
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
  async #verify(data: Bytes): Promise<Keys> {
    const keys = await this.#importKeys()
    if (data.length < MAC) throw new InvalidToken()
    const signed = data.subarray(0, data.length - MAC)
    const mac = data.subarray(data.length - MAC)
    if (!(await crypto.subtle.verify('HMAC', keys.signing, mac, signed))) throw new InvalidToken()
    return keys
  }

  async #decrypt({ data }: Parsed): Promise<Bytes> {
    const { encryption } = await this.#verify(data)
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

  static {
    encryptFromPartsOf = (fernet, data, time, iv) => fernet.#encrypt(data, time, iv)
    decryptParsedOf = (fernet, parsed) => fernet.#decrypt(parsed)
  }
}

/**
 * Several keys: encrypts with the first, decrypts with any, and {@link rotate} moves a token to
 * the first key. Put the new key first and keep the old ones until every token is rotated.
 */
export class MultiFernet {
  readonly #fernets: readonly Fernet[]

  constructor(fernets: Iterable<Fernet>) {
    const list = [...fernets]
    if (list.length === 0) throw new RangeError('MultiFernet requires at least one Fernet instance')
    for (const f of list) {
      if (!(f instanceof Fernet)) throw new TypeError('MultiFernet takes Fernet instances')
    }
    this.#fernets = list
  }

  /** A token of `data` under the first key. */
  encrypt(data: string | Uint8Array): Promise<string> {
    return this.encryptAtTime(data, nowSeconds())
  }

  /** A token of `data` under the first key, stamped with `time`. */
  encryptAtTime(data: string | Uint8Array, time: number): Promise<string> {
    return (this.#fernets[0] as Fernet).encryptAtTime(data, time)
  }

  /** The plaintext of `token` under the first key that accepts it; else {@link InvalidToken}. */
  async decrypt(token: string, options: DecryptOptions = {}): Promise<Uint8Array> {
    const parsed = parse(token)
    checkAge(parsed.timestamp, options.ttl, options.now)
    return this.#decryptParsed(parsed)
  }

  /** Python's `decrypt_at_time`. */
  decryptAtTime(token: string, ttl: number, currentTime: number): Promise<Uint8Array> {
    return this.decrypt(token, { ttl, now: currentTime })
  }

  /**
   * `token` re-encrypted under the first key with a fresh IV and its original timestamp (as
   * Python does: rotation does not extend its age); no TTL is checked.
   */
  async rotate(token: string): Promise<string> {
    const parsed = parse(token)
    const plain = await this.#decryptParsed(parsed)
    const iv = crypto.getRandomValues(new Uint8Array(16))
    return encryptFromPartsOf(this.#fernets[0] as Fernet, plain, parsed.timestamp, iv)
  }

  /** Python's `extract_timestamp`: the timestamp once some key verifies the HMAC. */
  async extractTimestamp(token: string): Promise<number> {
    for (const f of this.#fernets) {
      try {
        return await f.extractTimestamp(token)
      } catch (error) {
        if (!(error instanceof InvalidToken)) throw error
      }
    }
    throw new InvalidToken()
  }

  async #decryptParsed(parsed: Parsed): Promise<Bytes> {
    for (const f of this.#fernets) {
      try {
        return await decryptParsedOf(f, parsed)
      } catch (error) {
        if (!(error instanceof InvalidToken)) throw error
      }
    }
    throw new InvalidToken()
  }
}

/**
 * A token of `data` at `time` with the given `iv`: only for the specification's vectors, which
 * fix the IV. Never use a chosen IV for real data. Not exported from `keyline/vault`.
 * @internal
 */
export const encryptFromParts = (
  fernet: Fernet,
  data: string | Uint8Array,
  time: number,
  iv: Uint8Array
): Promise<string> => {
  if (!(iv instanceof Uint8Array) || iv.length !== 16) throw new RangeError('iv must be 16 bytes')
  return encryptFromPartsOf(fernet, toBytes(data), checkTime(time), new Uint8Array(iv))
}
