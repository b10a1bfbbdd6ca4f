/**
 * Settles with `promise`, or with `undefined` once `ms` have passed: for work a request must not
 * wait on without bound (a promise another request owns, which Workers cancel with it; a store
 * that hangs). The work itself goes on; only the wait ends.
 */
export const within = <T>(promise: Promise<T>, ms: number): Promise<T | undefined> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      }
    )
  })
