/**
 * Fernet (https://github.com/fernet/spec) on WebCrypto, shaped like Python's
 * `cryptography.fernet` (the token itself is `fernet-token.ts`). Tokens interoperate with
 * Python in both directions.
 */
import { encodeBase64Url } from '../encoding.ts'
import {
  type Bytes,
  FernetKey,
  InvalidToken,
  nowSeconds,
  openWithAny,
  type ParsedToken,
  parseToken,
  randomIv,
} from './fernet-token.ts'

export { InvalidToken }

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

/** Python's `_MAX_CLOCK_SKEW`: a token may be stamped up to this many seconds in the future. */
const MAX_CLOCK_SKEW = 60
const encoder = new TextEncoder()

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

/** Python's `_decrypt_data` time rules; `undefined` time info means no TTL. */
const checkAge = (timestamp: number, ttl: number | undefined, now: number | undefined): void => {
  if (ttl === undefined) return
  if (typeof ttl !== 'number' || Number.isNaN(ttl)) throw new TypeError('ttl must be a number')
  const current = now ?? nowSeconds()
  if (timestamp + ttl < current) throw new InvalidToken()
  if (current + MAX_CLOCK_SKEW < timestamp) throw new InvalidToken()
}

/** A token parsed and its age checked, as `decrypt` takes it. */
const parseAged = (token: string, options: DecryptOptions): ParsedToken => {
  const parsed = parseToken(token)
  checkAge(parsed.timestamp, options.ttl, options.now)
  return parsed
}

let keyOf: (fernet: Fernet) => FernetKey

/** One Fernet key. The CryptoKeys are imported once, on first use, and reused. */
export class Fernet {
  readonly #key: FernetKey

  /** `key`: 32 bytes in url-safe base64, as {@link Fernet.generateKey} and Python make them. */
  constructor(key: string) {
    this.#key = new FernetKey(key)
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
    return this.#key.seal(bytes, time, randomIv())
  }

  /** The plaintext of `token`; rejects with {@link InvalidToken} for any bad token. */
  async decrypt(token: string, options: DecryptOptions = {}): Promise<Uint8Array> {
    return this.#key.open(parseAged(token, options))
  }

  /** Python's `decrypt_at_time`: {@link decrypt} with `ttl` at `currentTime`. */
  decryptAtTime(token: string, ttl: number, currentTime: number): Promise<Uint8Array> {
    return this.decrypt(token, { ttl, now: currentTime })
  }

  /** The timestamp of `token` (seconds), once its HMAC is verified. */
  async extractTimestamp(token: string): Promise<number> {
    const parsed = parseToken(token)
    await this.#key.verify(parsed.data)
    return parsed.timestamp
  }

  static {
    keyOf = (fernet) => fernet.#key
  }
}

/**
 * Several keys: encrypts with the first, decrypts with any, and {@link rotate} moves a token to
 * the first key. Put the new key first and keep the old ones until every token is rotated.
 */
export class MultiFernet {
  readonly #fernets: readonly Fernet[]
  readonly #keys: readonly FernetKey[]

  constructor(fernets: Iterable<Fernet>) {
    const list = [...fernets]
    if (list.length === 0) throw new RangeError('MultiFernet requires at least one Fernet instance')
    for (const f of list) {
      if (!(f instanceof Fernet)) throw new TypeError('MultiFernet takes Fernet instances')
    }
    this.#fernets = list
    this.#keys = list.map(keyOf)
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
    return openWithAny(this.#keys, parseAged(token, options))
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
    const parsed = parseToken(token)
    const plain = await openWithAny(this.#keys, parsed)
    return (this.#keys[0] as FernetKey).seal(plain, parsed.timestamp, randomIv())
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
  return keyOf(fernet).seal(toBytes(data), checkTime(time), new Uint8Array(iv))
}
