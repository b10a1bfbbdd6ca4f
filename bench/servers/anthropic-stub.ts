/**
 * The Anthropic stub of `test/stubs` as a process of its own, so the load benchmarks' upstream
 * does not share the load generator's event loop: accepts the key `BENCH_API_KEY`, listens on
 * 127.0.0.1:`BENCH_PORT`.
 */
import { startAnthropicStub } from '../../test/stubs/index.ts'

const stub = await startAnthropicStub({
  apiKeys: [process.env.BENCH_API_KEY ?? ''],
  port: Number(process.env.BENCH_PORT),
})
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => stub.close().then(() => process.exit(0)))
}
