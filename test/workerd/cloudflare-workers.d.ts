/** The part of `cloudflare:workers` the workerd-only tests use (the bindings of wrangler.toml). */
declare module 'cloudflare:workers' {
  export const env: Record<string, unknown>
}
