import type { StoreFetched, StoreRef } from './store-fetch.ts'

/** A Cloudflare Secrets Store binding (`[[secrets_store_secrets]]` in wrangler.toml). */
export interface SecretsStoreBinding {
  get(): Promise<string>
}

/** Whether `value` or its prototype defines `name` itself (not through an RPC stub's proxy). */
const defines = (value: object, name: string): boolean =>
  Object.hasOwn(value, name) || Object.hasOwn(Object.getPrototypeOf(value) ?? {}, name)

/**
 * Whether a binding is a Secrets Store secret: an object with `get()` that is no KV namespace or
 * R2 bucket (which define `put()` themselves). Secrets Store bindings may be RPC stubs, on which
 * every property reads as a function, so only methods defined on the object count.
 */
export const isSecretsStoreBinding = (value: unknown): value is SecretsStoreBinding => {
  if (typeof value !== 'object' || value === null) return false
  return (
    typeof (value as { get?: unknown }).get === 'function' &&
    !defines(value, 'put') &&
    !defines(value, 'list')
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
