/**
 * How long an upstream asked us to wait, in milliseconds: `retry-after-ms` first (Anthropic),
 * then `retry-after` as seconds or an HTTP date. `undefined` when neither is usable.
 */
export const retryAfterMs = (headers: Headers, now: number = Date.now()): number | undefined => {
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '')
  if (Number.isFinite(ms) && ms >= 0) return ms
  const raw = headers.get('retry-after')?.trim()
  if (!raw) return undefined
  if (/^\d+(\.\d+)?$/.test(raw)) return Number.parseFloat(raw) * 1000
  const date = Date.parse(raw)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}
