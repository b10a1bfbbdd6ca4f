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
