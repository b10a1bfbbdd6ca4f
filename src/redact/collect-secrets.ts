import { Secret } from '../secrets/secret.ts'

/**
 * Every {@link Secret} value found in `root` (e.g. a `SecretsSnapshot`: each provider's current
 * and next credentials), following plain objects and arrays up to `maxDepth` levels. Feed the
 * result to {@link Redactor.withSecrets}. Never throws.
 */
export const collectSecretValues = (root: unknown, maxDepth = 6): string[] => {
  const out = new Set<string>()
  const seen = new WeakSet<object>()
  const visit = (value: unknown, depth: number): void => {
    if (typeof value !== 'object' || value === null || depth > maxDepth || seen.has(value)) return
    seen.add(value)
    try {
      if (value instanceof Secret) {
        const raw = value.reveal()
        if (raw) out.add(raw)
        return
      }
      for (const item of Array.isArray(value) ? value : Object.values(value)) visit(item, depth + 1)
    } catch {
      // An unreadable branch holds nothing this function can collect.
    }
  }
  visit(root, 0)
  return [...out]
}

/** Name segments (between `_`) that mark a variable as a credential. */
const SECRET_ENV_WORDS = new Set([
  'KEY',
  'KEYS',
  'APIKEY',
  'TOKEN',
  'TOKENS',
  'SECRET',
  'SECRETS',
  'PASSWORD',
  'PASSWD',
  'CREDENTIAL',
  'CREDENTIALS',
])

/** Variables that name where a secret is (a file, a store), not the secret. */
const LOCATOR = /_(FILE|AWS_SECRET|AWS_PARAMETER)$/i

/**
 * Whether a variable's name marks it as a credential (`…_KEY`, `…_TOKEN`, …; not `…_FILE`,
 * `…_AWS_SECRET` or `…_AWS_PARAMETER`, which locate one).
 */
export const isSecretEnvName = (name: string): boolean =>
  !LOCATOR.test(name) &&
  name
    .toUpperCase()
    .split('_')
    .some((word) => SECRET_ENV_WORDS.has(word))

/**
 * The string values of environment variables with a `KEY`, `APIKEY`, `TOKEN`, `SECRET`,
 * `PASSWORD`, `PASSWD` or `CREDENTIAL(S)` word in their name (`ANTHROPIC_API_KEY`,
 * `FYERS_ACCESS_TOKEN`, `KEYLINE_ADMIN_TOKEN`, and their `_NEXT` forms), so values the registry
 * does not know (admin and client tokens) are redacted too. `…_FILE` variables hold paths, not secrets, and are skipped.
 * Inherited variables count: an environment with store values laid over it inherits the rest.
 * Never throws.
 */
export const envSecretValues = (env: Record<string, unknown> | undefined): string[] => {
  const out = new Set<string>()
  try {
    const all = env ?? {}
    for (const name in all) {
      const value = all[name]
      if (typeof value !== 'string' || value.trim() === '' || LOCATOR.test(name)) continue
      if (isSecretEnvName(name)) out.add(value)
    }
  } catch {
    // An unreadable environment yields what was read.
  }
  return [...out]
}
