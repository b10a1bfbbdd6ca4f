/**
 * What keyline calls for each provider it ships with (their definitions are data in
 * `src/catalog/`): the validity probe, the cheap authenticated call that proves a credential
 * works.
 */
import type { ProbeVerdict } from '../catalog/outcomes.ts'
import type { ProviderId } from '../catalog/providers.ts'
import type { ProviderSnapshot } from '../secrets/registry.ts'
import type { Secret } from '../secrets/secret.ts'
import { probeAnthropic } from './anthropic/call.ts'
import { probeFyers } from './fyers/call.ts'

/** Each provider's validity probe: the cheap authenticated call that proves a credential works. */
export const probes: {
  readonly [P in ProviderId]: (
    snapshot: ProviderSnapshot<P>,
    secret: Secret,
    doFetch: typeof fetch,
    signal: AbortSignal
  ) => Promise<ProbeVerdict>
} = { anthropic: probeAnthropic, fyers: probeFyers }
