import type { ProviderSnapshot } from '../secrets/registry.ts'
import { createFyersClient, type FyersClient } from './fyers.ts'

/** A Fyers client for a snapshot's app id and base URL, with the given access token. */
export const fyersClientFor = (
  snapshot: ProviderSnapshot<'fyers'>,
  accessToken: string,
  fetch: typeof globalThis.fetch
): FyersClient =>
  createFyersClient({
    clientId: snapshot.credentials.clientId.current?.reveal() ?? '',
    accessToken,
    baseUrl: snapshot.settings.baseUrl,
    fetch,
  })
