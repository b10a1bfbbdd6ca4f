/**
 * Leak checks that hold wherever the repository sits: the values are random (no fixed word
 * such as `test` that a checkout path could hold), and the checkout's own path is taken out of
 * the text (stack traces print it) before it is searched. Web APIs only (Node, workerd, Deno).
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** A random secret-like value: `prefix` and `length` random letters and digits. */
export const randomSecret = (prefix = 'sk-', length = 40): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(length))
  return prefix + Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join('')
}

const checkoutRoot = (): string | undefined => {
  const g = globalThis as {
    process?: { cwd?: () => string }
    Deno?: { cwd?: () => string }
  }
  try {
    const root = g.Deno?.cwd?.() ?? g.process?.cwd?.()
    return root && root !== '/' ? root : undefined
  } catch {
    return undefined
  }
}

/** `text` with the checkout's path (plain and as a `file://` URL) replaced by `<root>`. */
export const withoutCheckoutPath = (text: string): string => {
  const root = checkoutRoot()
  if (!root) return text
  return text
    .replaceAll(`file://${encodeURI(root)}`, '<root>')
    .replaceAll(encodeURI(root), '<root>')
    .replaceAll(root, '<root>')
}

/**
 * The first 5-character piece of `value`, outside its last 4 characters (the fingerprint), that
 * `text` holds once the checkout path is taken out; `undefined` when there is none.
 */
export const leakedPiece = (text: string, value: string, size = 5): string | undefined => {
  const searched = withoutCheckoutPath(text)
  const hidden = value.slice(0, -4)
  for (let i = 0; i + size <= hidden.length; i++) {
    const piece = hidden.slice(i, i + size)
    if (searched.includes(piece)) return piece
  }
  return undefined
}
