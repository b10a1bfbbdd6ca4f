import type { StoreFetched, StoreRef } from './store-fetch.ts'

/** A Cloudflare Secrets Store binding (`[[secrets_store_secrets]]` in wrangler.toml). */
export interface SecretsStoreBinding {
  get(): Promise<string>
}

/**
 * Whether a binding is a Secrets Store secret: an object with `get()` and none of a KV
 * namespace's `put()`/`list()`.
 */
export const isSecretsStoreBinding = (value: unknown): value is SecretsStoreBinding => {
  if (typeof value !== 'object' || value === null) return false
  const binding = value as { get?: unknown; put?: unknown; list?: unknown }
  return (
    typeof binding.get === 'function' &&
    typeof binding.put !== 'function' &&
    typeof binding.list !== 'function'
  )
}

/**
 * The Secrets Store secret bound as `binding`, read with `await env[binding].get()`. The binding
 * of the request that fetches is used, so no I/O object crosses requests.
 */
export const secretsStoreRef = (binding: string): StoreRef => ({
  kind: 'secrets-store',
  key: `secrets-store\u0000${binding}`,
  source: `secrets-store:${binding}`,
  async fetch(context): Promise<StoreFetched> {
    const bound = context.env[binding]
    if (!isSecretsStoreBinding(bound)) throw new Error(`${binding} is no Secrets Store binding`)
    const value = await bound.get()
    if (typeof value !== 'string') throw new Error(`${binding}.get() returned no text`)
    return { value }
  },
})
