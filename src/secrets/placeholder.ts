/** Why a variable that is present still does not configure anything. */
export type UnusableReason = 'empty' | 'placeholder' | 'invalid_characters'

const PLACEHOLDER_WORDS = new Set([
  'changeme',
  'change-me',
  'change_me',
  'your-key-here',
  'your_key_here',
  'your-api-key',
  'your_api_key',
  'your-token-here',
  'your_token_here',
  'replace-me',
  'replace_me',
  'placeholder',
  'todo',
  'tbd',
  'none',
  'null',
  'undefined',
])

/**
 * Tells whether a trimmed value is unusable: empty, or a placeholder copied from a template
 * (`changeme`, `your-key-here`, `<your key>`, `xxxx…`, `sk-ant-...`), or holding characters
 * no credential has and no HTTP header can carry (spaces, control characters, non-ASCII).
 */
export const unusableReason = (value: string): UnusableReason | undefined => {
  if (value === '') return 'empty'
  const lower = value.toLowerCase()
  if (PLACEHOLDER_WORDS.has(lower)) return 'placeholder'
  if (/^<.*>$/s.test(value) || /^\$\{.*\}$/s.test(value)) return 'placeholder'
  if (/^x{3,}$/i.test(value) || /^[-_a-z]*x{6,}$/i.test(value)) return 'placeholder'
  if (/(\.\.\.|…)$/.test(value)) return 'placeholder'
  if (/[^\x21-\x7e]/.test(value)) return 'invalid_characters'
  return undefined
}
