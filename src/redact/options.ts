/** A secret value, or an object that reveals one (a {@link Secret}). */
export type SecretLike = string | { reveal(): string } | null | undefined

/** Options of {@link createRedactor}. */
export interface RedactorOptions {
  /**
   * The secret values to replace. Swap them per request with {@link Redactor.withSecrets}.
   * `null`, `undefined` and empty values are ignored.
   * @default []
   */
  secrets?: Iterable<SecretLike>
  /**
   * Extra header names to mask, on top of {@link DEFAULT_SENSITIVE_HEADERS}. Case-insensitive.
   * @default []
   */
  headers?: Iterable<string>
  /**
   * Extra query parameter names to mask, on top of those {@link isSensitiveParamName} accepts.
   * @default []
   */
  queryParams?: Iterable<string>
  /**
   * Secrets shorter than this are not searched for inside text (replacing every `abc` would
   * destroy it); they are still masked where they are a whole value: a whole string, header
   * value or query parameter value.
   * @default 4
   */
  minSecretLength?: number
  /**
   * Whether redacted errors keep their (redacted) `stack`. The HTTP error path turns it off.
   * @default true
   */
  stacks?: boolean
  /**
   * How deep objects are followed; deeper ones become `[MaxDepth]`.
   * @default 10
   */
  maxDepth?: number
  /**
   * How many values one call visits; later ones become `[Truncated]` or are summarized.
   * @default 2000
   */
  maxNodes?: number
  /**
   * Longest string kept; the rest becomes `…[truncated N chars]`.
   * @default 8192
   */
  maxStringLength?: number
  /**
   * How many compiled secret sets {@link Redactor.withSecrets} keeps.
   * @default 16
   */
  cacheSize?: number
}

/** {@link RedactorOptions} with every default filled in. */
export interface ResolvedRedactorOptions {
  readonly headers: readonly string[]
  readonly queryParams: readonly string[]
  readonly minSecretLength: number
  readonly stacks: boolean
  readonly maxDepth: number
  readonly maxNodes: number
  readonly maxStringLength: number
  readonly cacheSize: number
}

const count = (value: number | undefined, fallback: number, min: number): number =>
  typeof value === 'number' && Number.isFinite(value) ? Math.max(min, Math.floor(value)) : fallback

/** Fills in the defaults of {@link RedactorOptions}; out-of-range numbers are clamped. */
export const resolveRedactorOptions = (options: RedactorOptions = {}): ResolvedRedactorOptions => ({
  headers: [...(options.headers ?? [])].map(String),
  queryParams: [...(options.queryParams ?? [])].map(String),
  minSecretLength: count(options.minSecretLength, 4, 1),
  stacks: options.stacks ?? true,
  maxDepth: count(options.maxDepth, 10, 0),
  maxNodes: count(options.maxNodes, 2000, 1),
  maxStringLength: count(options.maxStringLength, 8192, 16),
  cacheSize: count(options.cacheSize, 16, 1),
})

/** The string values of `secrets`: revealed, empty and missing ones dropped. Never throws. */
export const secretValues = (secrets: Iterable<SecretLike> | undefined): string[] => {
  const out: string[] = []
  if (!secrets) return out
  try {
    for (const secret of secrets) {
      try {
        const value = typeof secret === 'string' ? secret : secret?.reveal()
        if (typeof value === 'string' && value.length > 0) out.push(value)
      } catch {
        // A secret that cannot be revealed cannot be leaked by this redactor either.
      }
    }
  } catch {
    // A throwing iterable yields the values read so far.
  }
  return out
}
