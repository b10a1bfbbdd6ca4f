/** A shell word as typed: bare when it is safe bare, else in single quotes. */
const quote = (word: string): string =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`

/** A URL's password (`https://user:pass@host`), should one be typed, is never printed. */
export const withoutPassword = (word: string): string =>
  word.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:\s]*):[^/@\s]*@/i, '$1:***@')

/**
 * The command line as the user ran it, as `keyline …` with their own arguments in their order
 * (quoted for a shell where needed); `drop` leaves some out, e.g. `--dry-run` for the real run.
 */
export const commandLine = (argv: readonly string[], drop: readonly string[] = []): string =>
  ['keyline', ...argv.filter((word) => !drop.includes(word)).map(withoutPassword)]
    .map(quote)
    .join(' ')
