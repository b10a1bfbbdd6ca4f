import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { inSequence } from '../../src/middleware/in-sequence.ts'

describe('inSequence', () => {
  it('runs its handlers one inside the other, as app.use() one after another would', async () => {
    const seen: string[] = []
    const app = new Hono()
    app.use(
      inSequence(
        async (_c, next) => {
          seen.push('a in')
          await next()
          seen.push('a out')
        },
        async (c, next) => {
          seen.push('b in')
          c.header('x-b', '1')
          await next()
          seen.push('b out')
        }
      )
    )
    app.get('/', (c) => {
      seen.push('route')
      return c.text('ok')
    })
    const res = await app.request('/')
    expect(await res.text()).toBe('ok')
    expect(res.headers.get('x-b')).toBe('1')
    expect(seen).toEqual(['a in', 'b in', 'route', 'b out', 'a out'])
  })

  it('lets a handler answer without calling next()', async () => {
    const app = new Hono()
    app.use(
      inSequence(
        async (_c, next) => {
          await next()
        },
        async (c) => c.text('stopped here', 403)
      )
    )
    app.get('/', (c) => c.text('route'))
    const res = await app.request('/')
    expect(res.status).toBe(403)
    expect(await res.text()).toBe('stopped here')
  })

  it('hands what a handler or the route throws to the app error handler', async () => {
    const app = new Hono()
    app.use(
      inSequence(
        async (_c, next) => {
          await next()
        },
        async (c, next) => {
          if (c.req.path === '/early') throw new Error('early')
          await next()
        }
      )
    )
    app.get('*', () => {
      throw new Error('route')
    })
    app.onError((error, c) => c.text(`caught ${error.message}`, 500))
    expect(await (await app.request('/early')).text()).toBe('caught early')
    expect(await (await app.request('/late')).text()).toBe('caught route')
  })
})
