/**
 * Bytes allocated per call, on the V8 heap, by GC accounting: V8 has no per-call allocation
 * counter, so this runs `fn` `count` times under a `v8.GCProfiler` and adds up what the heap
 * grew by (used size at the end minus at the start) and what every collection in between freed
 * (used size before it minus after it). Nothing is missed: a byte is either still on the heap at
 * the end or was freed by one of those collections. It counts JavaScript heap objects (strings,
 * objects, closures, promises); ArrayBuffer backing stores live outside the heap and are not
 * counted. Concurrent sweeping makes single collections approximate, so use counts in the
 * thousands and compare figures measured the same way in the same run.
 */
import { GCProfiler, getHeapStatistics } from 'node:v8'

/** Average bytes allocated on the V8 heap per call of `fn`, over `count` sequential calls. */
export const bytesPerCall = async (fn: () => Promise<unknown>, count: number): Promise<number> => {
  const profiler = new GCProfiler()
  profiler.start()
  const before = getHeapStatistics().used_heap_size
  for (let i = 0; i < count; i++) await fn()
  const after = getHeapStatistics().used_heap_size
  const { statistics } = profiler.stop()
  let freed = 0
  for (const gc of statistics) {
    freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize
  }
  return (after - before + freed) / count
}
