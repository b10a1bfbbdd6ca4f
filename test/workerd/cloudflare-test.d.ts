/** The part of `cloudflare:test` (@cloudflare/vitest-plugin) the workerd-only tests use. */
declare module 'cloudflare:test' {
  /** The Worker's bindings, from wrangler.toml and vitest.config.ts's miniflare options. */
  export const env: Record<string, unknown>
  /** The admin API of a Secrets Store binding: create or update what `get()` returns. */
  export function adminSecretsStore(binding: unknown): {
    create(value: string): Promise<string>
    update(value: string, id: string): Promise<string>
    [Symbol.dispose](): void
  }
}
