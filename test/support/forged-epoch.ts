/**
 * The reload epoch record the red team wrote into the shared store (issue 21, item 4): a
 * promotion named by two public fingerprints (any status shows them), with no MAC of the
 * deployment's. Runtime-free: used by the unit tests and the contract tests alike.
 */
export const forgedEpochRecord = (fingerprints: { next: string; replaced: string }): string =>
  JSON.stringify({
    epoch: `${Date.now()}-forged`,
    at: Date.now(),
    action: 'promote',
    promotions: [{ provider: 'anthropic', credential: 'apiKey', ...fingerprints, at: Date.now() }],
  })
