/**
 * The redaction engine: replaces known secret values (raw, percent-encoded, JSON-escaped,
 * base64) with their fingerprints and masks sensitive headers, query parameters and URL
 * userinfo anywhere in a value.
 */
export { collectSecretValues, envSecretValues } from './collect-secrets.ts'
export {
  CIRCULAR,
  MASKED,
  MAX_DEPTH,
  TRUNCATED,
  truncatedChars,
  truncatedItems,
  UNREDACTABLE,
} from './markers.ts'
export type { RedactorOptions, ResolvedRedactorOptions, SecretLike } from './options.ts'
export { createRedactor, type Redactor } from './redactor.ts'
export { secretForms } from './secret-forms.ts'
export {
  DEFAULT_SENSITIVE_HEADERS,
  isSensitiveParamName,
} from './sensitive-names.ts'
export type { RedactedError, RedactedValue } from './types.ts'
