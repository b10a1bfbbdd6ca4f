/**
 * The providers keyline ships with. Each one's facts live in its own module
 * (`anthropic.ts`, `fyers.ts`); this is the one list of them.
 */
import type { ProviderSnapshot } from '../secrets/registry.ts'
import type { Secret } from '../secrets/secret.ts'
import { anthropicDefinition, probeAnthropic } from './anthropic.ts'
import type { ProbeVerdict } from './call.ts'
import { fyersDefinition, probeFyers } from './fyers.ts'

/** The providers keyline ships with, by id. */
export const providerDefinitions = {
  anthropic: anthropicDefinition,
  fyers: fyersDefinition,
} as const

/** A provider id keyline knows: `anthropic` or `fyers`. */
export type ProviderId = keyof typeof providerDefinitions

/** Provider ids in a stable order, for messages, validation and metrics. */
export const PROVIDER_IDS = Object.keys(providerDefinitions) as ProviderId[]

/** Each provider's validity probe: the cheap authenticated call that proves a credential works. */
export const probes: {
  readonly [P in ProviderId]: (
    snapshot: ProviderSnapshot<P>,
    secret: Secret,
    doFetch: typeof fetch,
    signal: AbortSignal
  ) => Promise<ProbeVerdict>
} = { anthropic: probeAnthropic, fyers: probeFyers }

export { anthropicDefinition, fyersDefinition }
