import { REDACTED } from '../secrets/fingerprint.ts'

/** The value a masked header, query parameter or userinfo is shown as. */
export const MASKED = REDACTED

/** Stands for a value the redactor could not read or process; nothing of it is shown. */
export const UNREDACTABLE = '[UNREDACTABLE]'

/** Stands for an object already being redacted higher up (a reference cycle). */
export const CIRCULAR = '[Circular]'

/** Stands for an object nested deeper than {@link RedactorOptions.maxDepth}. */
export const MAX_DEPTH = '[MaxDepth]'

/** Stands for values past {@link RedactorOptions.maxNodes}. */
export const TRUNCATED = '[Truncated]'

/** Appended to a string cut at {@link RedactorOptions.maxStringLength}. */
export const truncatedChars = (count: number): string => `…[truncated ${count} chars]`

/** Appended to an array, or set as a key of an object, whose remaining entries were dropped. */
export const truncatedItems = (count: number): string => `…[truncated ${count} items]`
