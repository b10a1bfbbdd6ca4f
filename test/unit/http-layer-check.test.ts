import { describe, expect, it } from 'vitest'
import {
  headerBlockBytes,
  httpLayerBytes,
  httpLayerCheck,
  httpLayerError,
  isValidHost,
} from '../../src/entries/http-errors.ts'

describe('HTTP-layer checks (the Deno entry answers with them as Node does)', () => {
  it('accepts the hosts a URL names as they are', () => {
    for (const host of [
      'localhost',
      'LOCALHOST:8787',
      '127.0.0.1',
      '[::1]:8787',
      'a-b.example',
      'x:',
    ]) {
      expect(isValidHost(host), host).toBe(true)
    }
  })

  it('refuses hosts a URL parser would read as user info, path, query, or rewrite', () => {
    for (const host of [
      'a/b',
      'a@b',
      'a?b',
      'a#b',
      'exa mple',
      'a:b',
      'a:99999',
      '',
      '[zz',
      'bücher.example',
      '0x7f.1',
    ]) {
      expect(isValidHost(host), host).toBe(false)
    }
  })

  it('counts the request line and header block as a parser would', () => {
    const request = new Request('http://h/p?q=1', { headers: { 'x-a': 'bc' } })
    expect(headerBlockBytes(request)).toBe('GET /p?q=1 HTTP/1.1\r\n'.length + 'x-a: bc\r\n'.length)
  })

  it('answers a bad Host with 400 and a header block over 16 KiB with 431', () => {
    const host = new Request('http://h/', { headers: { host: 'a/b' } })
    expect(httpLayerCheck(host)?.status).toBe(400)
    const big = new Request('http://h/', { headers: { 'x-big': 'a'.repeat(16 * 1024) } })
    expect(httpLayerCheck(big)?.status).toBe(431)
    expect(httpLayerCheck(new Request('http://h/', { headers: { host: 'h:1' } }))).toBeUndefined()
  })

  it("writes keyline's JSON error shape, with a request id and, on a raw socket, connection: close", () => {
    const error = httpLayerError(400, 'nope')
    const body = JSON.parse(error.body)
    expect(body).toEqual({
      error: { type: 'invalid_request_error', message: 'nope' },
      request_id: error.headers['x-request-id'],
    })
    const bytes = httpLayerBytes(error)
    expect(bytes).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/)
    expect(bytes).toContain('\r\nconnection: close\r\n')
    expect(bytes).toContain(`\r\ncontent-length: ${error.body.length}\r\n`)
    expect(bytes.endsWith(`\r\n\r\n${error.body}`)).toBe(true)
  })
})
