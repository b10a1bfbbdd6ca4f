import { describe, expect, it, vi } from 'vitest'
import { consoleSink, createLogger, type LogRecord, parseLogLevel } from '../../src/log/index.ts'
import { createRedactor } from '../../src/redact/index.ts'
import { randomSecret } from './redact-helpers.ts'

const capture = (): { lines: LogRecord[]; sink: (r: LogRecord) => void } => {
  const lines: LogRecord[] = []
  return { lines, sink: (r) => lines.push(r) }
}

describe('logger', () => {
  const secret = `tst_${randomSecret(24)}`
  const tail = `…${secret.slice(-4)}`

  it('writes level, time, msg and fields, redacting every field and msg', () => {
    const { lines, sink } = capture()
    const log = createLogger({
      sink,
      redactor: createRedactor({ secrets: [secret] }),
      now: () => 0,
    })
    log.info(`calling with ${secret}`, {
      request_id: 'r1',
      headers: { authorization: 'x' },
      err: new Error(secret),
    })
    expect(lines).toHaveLength(1)
    const [line] = lines
    expect(Object.keys(line ?? {}).slice(0, 3)).toEqual(['level', 'time', 'msg'])
    expect(line).toMatchObject({
      level: 'info',
      time: '1970-01-01T00:00:00.000Z',
      msg: `calling with ${tail}`,
      request_id: 'r1',
      headers: { authorization: '[REDACTED]' },
      err: { name: 'Error', message: tail },
    })
    expect(JSON.stringify(lines)).not.toContain(secret.slice(4, 20))
  })

  it('fields cannot override level, time or msg', () => {
    const { lines, sink } = capture()
    createLogger({ sink, now: () => 0 }).warn('real', { level: 'debug', msg: 'fake', time: 'x' })
    expect(lines[0]).toEqual({ level: 'warn', time: '1970-01-01T00:00:00.000Z', msg: 'real' })
  })

  it('asks a redactor function for the current redactor on every line (rotation)', () => {
    const { lines, sink } = capture()
    const next = `tst_${randomSecret(24)}`
    let current = createRedactor({ secrets: [secret] })
    const log = createLogger({ sink, redactor: () => current })
    log.info(`${secret} ${next}`)
    current = current.withSecrets([next])
    log.info(`${secret} ${next}`)
    expect(lines.map((l) => l.msg)).toEqual([`${tail} ${next}`, `${secret} …${next.slice(-4)}`])
  })

  it('child loggers add fields and may swap the redactor', () => {
    const { lines, sink } = capture()
    const log = createLogger({ sink, fields: { service: 'keyline' } })
    log.child({ request_id: 'r2' }, createRedactor({ secrets: [secret] })).error(secret)
    expect(lines[0]).toMatchObject({
      level: 'error',
      msg: tail,
      service: 'keyline',
      request_id: 'r2',
    })
  })

  it('honours LOG_LEVEL: debug|info|warn|error|silent, invalid means info', () => {
    expect(parseLogLevel(' WARN ')).toBe('warn')
    expect(parseLogLevel('verbose')).toBe('info')
    expect(parseLogLevel(undefined)).toBe('info')
    const count = (level: string | undefined): string[] => {
      const { lines, sink } = capture()
      const log = createLogger({ level, sink })
      log.debug('d')
      log.info('i')
      log.warn('w')
      log.error('e')
      return lines.map((l) => l.msg)
    }
    expect(count('debug')).toEqual(['d', 'i', 'w', 'e'])
    expect(count(undefined)).toEqual(['i', 'w', 'e'])
    expect(count('nonsense')).toEqual(['i', 'w', 'e'])
    expect(count('warn')).toEqual(['w', 'e'])
    expect(count('error')).toEqual(['e'])
    expect(count('silent')).toEqual([])
    expect(createLogger({ level: 'warn', sink: () => {} }).enabled('info')).toBe(false)
  })

  it('never throws: hostile fields, a throwing redactor source, a throwing sink', () => {
    const { lines, sink } = capture()
    const hostile = Object.defineProperty({}, 'boom', {
      enumerable: true,
      get() {
        throw new Error(secret)
      },
    })
    const log = createLogger({ sink, redactor: createRedactor({ secrets: [secret] }) })
    expect(() => log.info('hostile', { hostile })).not.toThrow()
    expect(lines[0]).toMatchObject({ msg: 'hostile', hostile: { boom: '[UNREDACTABLE]' } })
    const broken = createLogger({
      sink,
      redactor: () => {
        throw new Error(secret)
      },
    })
    expect(() => broken.info(`x ${secret}`)).not.toThrow()
    expect(() =>
      createLogger({
        sink: () => {
          throw new Error('sink down')
        },
      }).info('x')
    ).not.toThrow()
    expect(JSON.stringify(lines)).not.toContain(secret)
  })

  it('console sink: one JSON string per line, errors and warnings to console.error', () => {
    const fake = { log: vi.fn(), error: vi.fn() }
    const log = createLogger({ sink: consoleSink({ workers: false, console: fake }), now: () => 0 })
    log.info('hello', { n: 1 })
    log.error('bad')
    expect(fake.log).toHaveBeenCalledWith(
      '{"level":"info","time":"1970-01-01T00:00:00.000Z","msg":"hello","n":1}'
    )
    expect(fake.error).toHaveBeenCalledWith(
      '{"level":"error","time":"1970-01-01T00:00:00.000Z","msg":"bad"}'
    )
  })

  it('console sink on Workers: passes the object itself so Workers Logs indexes its fields', () => {
    const fake = { log: vi.fn(), error: vi.fn() }
    createLogger({ sink: consoleSink({ workers: true, console: fake }), now: () => 0 }).info('hi', {
      a: 1,
    })
    expect(fake.log).toHaveBeenCalledWith({
      level: 'info',
      time: '1970-01-01T00:00:00.000Z',
      msg: 'hi',
      a: 1,
    })
  })
})
