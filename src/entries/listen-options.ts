import type { EnvRecord } from '../env.ts'

/** Where a Node or Deno server listens and how long it drains on shutdown. */
export interface ListenOptions {
  hostname: string
  port: number
  shutdownTimeoutMs: number
}

const integer = (env: EnvRecord, name: string, fallback: number, max: number): number => {
  const raw = env[name]
  if (typeof raw !== 'string' || raw.trim() === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer from 0 to ${max}`)
  }
  return value
}

/**
 * Reads `HOST` (default `127.0.0.1`: safe, loopback only), `PORT` (default `8787`, like
 * `wrangler dev`) and `SHUTDOWN_TIMEOUT_MS` (default `10000`).
 */
export const listenOptions = (env: EnvRecord): ListenOptions => ({
  hostname: typeof env.HOST === 'string' && env.HOST.trim() ? env.HOST.trim() : '127.0.0.1',
  port: integer(env, 'PORT', 8787, 65_535),
  shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 600_000),
})
