/**
 * How to give keyline a variable it lacks, in words that work for the runtime: a plain
 * environment variable on Node and Deno is read once at start (a restart changes it), a
 * `_FILE` or a secure store is read again by `POST /admin/keys/reload`, and on Workers a
 * `wrangler secret put` takes effect with the version it deploys. One clause, never a value.
 */
export const setHint = (variables: readonly string[], runtime?: string): string => {
  const names = variables.join(', ')
  const [first = 'NAME'] = variables
  const them = variables.length > 1 ? 'them' : 'it'
  if (runtime === 'workerd') {
    return `set ${names} with wrangler secret put (${them === 'it' ? 'it takes' : 'they take'} effect with the version it deploys), or bind ${them} from a Secrets Store and reload`
  }
  return `set ${names} (in .env or the environment) and restart keyline, or give ${them} as ${first}_FILE or a secure store (${first}_AWS_SECRET) and reload`
}
