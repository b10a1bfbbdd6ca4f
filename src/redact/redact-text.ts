import { truncatedChars } from './markers.ts'
import { maskText, type TextMaskRules } from './mask-text.ts'
import type { SecretMatcher } from './matcher.ts'

/** What {@link redactText} needs: the compiled secrets, the name rules and the length limit. */
export interface TextRules extends TextMaskRules {
  readonly matcher: SecretMatcher
  readonly maxStringLength: number
}

/**
 * Redacts one string: a string that is exactly a secret (of any length) becomes its
 * fingerprint; otherwise every form of every secret inside it is replaced by the secret's
 * fingerprint, then sensitive URL userinfo, parameters, header lines and credentials are
 * masked ({@link maskText}), and anything past `maxStringLength` is cut and counted.
 */
export const redactText = (text: string, rules: TextRules): string => {
  const exact = rules.matcher.exact(text)
  if (exact !== undefined) return exact
  const replaced = rules.matcher.replace(text, rules.maxStringLength)
  const masked = maskText(replaced.text, rules)
  const dropped = text.length - replaced.consumed
  return dropped > 0 ? masked + truncatedChars(dropped) : masked
}
