/**
 * Makes a redacted text fit an HTTP header, which carries Latin-1 only: a fingerprint
 * (`…ABCD`) becomes `[REDACTED]` — a header has no room for the ellipsis, and the last 4
 * characters next to ASCII punctuation could read as more of the secret — and any other
 * character a header cannot hold becomes `?`.
 */
export const headerValue = (text: string): string =>
  text.replace(/….{0,4}/gsu, '[REDACTED]').replace(/[^\t\x20-\x7e\x80-\xff]/gu, '?')
