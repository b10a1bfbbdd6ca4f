/**
 * A random bearer token, `<prefix>-<uuid>`, made up at run time: the benchmarks never use a
 * committed credential (the secret scanner runs over the repository).
 */
export const randomToken = (prefix: string): string => `${prefix}-${crypto.randomUUID()}`
