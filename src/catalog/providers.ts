/**
 * The providers keyline ships with: the one list of them, by id, with each one's definition
 * and the classifier of its failures. A provider is one catalog file (`anthropic.ts`,
 * `fyers.ts`), one folder under `src/providers/`, and its line here and in
 * `src/providers/index.ts`.
 */
import {
  AI_ERROR_TYPES,
  ANTHROPIC_CLIENT_ERROR_TYPES,
  anthropicDefinition,
  anthropicErrorType,
} from './anthropic.ts'
import type { CredentialDefinition } from './definitions.ts'
import {
  FYERS_CLIENT_ERROR_TYPES,
  FYERS_ERROR_TYPES,
  fyersDefinition,
  fyersErrorType,
} from './fyers.ts'
import type { FailureFacts } from './outcomes.ts'

/** The providers keyline ships with, by id. */
export const providerDefinitions = {
  anthropic: anthropicDefinition,
  fyers: fyersDefinition,
} as const

/** A provider id keyline knows: `anthropic` or `fyers`. */
export type ProviderId = keyof typeof providerDefinitions

/** Provider ids in a stable order, for messages, validation and metrics. */
export const PROVIDER_IDS = Object.keys(providerDefinitions) as ProviderId[]

/** Whether `value` is a provider id keyline knows. */
export const isProviderId = (value: unknown): value is ProviderId =>
  typeof value === 'string' && Object.hasOwn(providerDefinitions, value)

/** Each provider's failure classifier: the bounded `error.type` of a failed call. */
export const errorTypeOf: {
  readonly [P in ProviderId]: (facts: FailureFacts) => string
} = { anthropic: anthropicErrorType, fyers: fyersErrorType }

/** Each provider's bounded `error.type` values (`_OTHER` aside). */
export const ERROR_TYPES: { readonly [P in ProviderId]: readonly string[] } = {
  anthropic: AI_ERROR_TYPES,
  fyers: FYERS_ERROR_TYPES,
}

/** Error types a client's own request causes, any provider's: counted, never a failure streak. */
export const CLIENT_ERROR_TYPES: ReadonlySet<string> = new Set([
  ...ANTHROPIC_CLIENT_ERROR_TYPES,
  ...FYERS_CLIENT_ERROR_TYPES,
])

/** One provider credential by its names, e.g. (`anthropic`, `apiKey`). */
export const credentialDefinition = (
  provider: string,
  credential: string
): CredentialDefinition | undefined =>
  isProviderId(provider)
    ? (providerDefinitions[provider].credentials as Record<string, CredentialDefinition>)[
        credential
      ]
    : undefined
