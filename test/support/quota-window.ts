/**
 * Quota windows are fixed UTC minutes: a test that counts requests against `rpm` first waits,
 * when the minute ends within `marginMs`, for the next one, so no burst straddles two windows.
 */
export const awayFromMinuteEdge = async (marginMs = 5_000): Promise<void> => {
  const left = 60_000 - (Date.now() % 60_000)
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 50))
}
