/**
 * Quota windows are fixed UTC minutes: a test that counts requests against `rpm` first waits,
 * when the minute ends within `marginMs`, for the next one, so no burst straddles two windows.
 */
export const awayFromMinuteEdge = async (marginMs = 5_000): Promise<void> => {
  const left = 60_000 - (Date.now() % 60_000)
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 50))
}

/** One count of a client in the admin status (`limits.clients.<name>.counts`). */
export interface StatusCount {
  kind: string
  limit: number
  used: number
  resetAt: number
}

/** A client's counts in the admin status by kind (`rpm`, `tpm`, …, `refused`). */
export const countsOf = (
  client: { counts: StatusCount[] } | undefined
): Record<string, StatusCount | undefined> =>
  Object.fromEntries((client?.counts ?? []).map((count) => [count.kind, count]))
