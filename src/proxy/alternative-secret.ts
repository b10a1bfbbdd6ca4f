import type { Context } from 'hono'
import type { EnvReader } from '../env.ts'
import type { ProviderId } from '../secrets/definitions.ts'
import type { SecretRegistry } from '../secrets/registry.ts'
import type { Secret } from '../secrets/secret.ts'

/**
 * The secret to try after `rejected` was refused: the provider's credential read afresh (a
 * rotation may have changed the current value or staged a next one while the request was in
 * flight), else the next secret the request started with.
 */
export const alternativeSecret = async (
  c: Context,
  registry: SecretRegistry,
  env: EnvReader,
  provider: ProviderId,
  credential: string,
  rejected: Secret,
  staged: Secret | undefined
): Promise<Secret | undefined> => {
  try {
    const fresh = await registry.resolveProvider(env(c), provider)
    const state = (fresh.credentials as Record<string, { current?: Secret; next?: Secret }>)[
      credential
    ]
    if (state?.current && state.current.reveal() !== rejected.reveal()) return state.current
    return state?.next ?? staged
  } catch {
    return staged
  }
}
