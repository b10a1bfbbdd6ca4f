/**
 * A stand-in for an object that is built on first use. Reading any property builds it (or throws
 * the builder's error); `then` reads as `undefined` so the stand-in is never taken for a promise.
 */
export const lazy = <T extends object>(build: () => T): T => {
  let built: T | undefined
  const target = (): T => {
    built ??= build()
    return built
  }
  return new Proxy({} as T, {
    get(_, prop) {
      if (prop === 'then' && !built) return undefined
      const real = target()
      const value: unknown = Reflect.get(real, prop, real)
      return typeof value === 'function' ? value.bind(real) : value
    },
    has: (_, prop) => Reflect.has(target(), prop),
    set: (_, prop, value) => Reflect.set(target(), prop, value),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor(_, prop) {
      const descriptor = Reflect.getOwnPropertyDescriptor(target(), prop)
      return descriptor && { ...descriptor, configurable: true }
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(target()),
  })
}
