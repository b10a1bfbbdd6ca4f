import type { FileMetadata } from '@anthropic-ai/sdk/resources/files'
import type {
  MessageBatch,
  MessageBatchIndividualResponse,
} from '@anthropic-ai/sdk/resources/messages/batches'
import type { Hono } from 'hono'
import { buildMessage, estimateTokens, randomId } from './anthropic-wire.ts'
import type { StubState } from './state.ts'
import type { StubContext, StubEnv } from './stub-server.ts'

/** What a stub session holds of message batches and files. */
interface Resources {
  batches: Map<string, { batch: MessageBatch; requests: BatchRequest[] }>
  files: Map<string, { meta: FileMetadata; bytes: Uint8Array }>
}

interface BatchRequest {
  custom_id: string
  params: { model?: unknown; messages?: unknown }
}

const bySession = new WeakMap<StubState, Resources>()
const resourcesOf = (c: StubContext): Resources => {
  const state = c.get('state')
  let found = bySession.get(state)
  if (!found) {
    found = { batches: new Map(), files: new Map() }
    bySession.set(state, found)
  }
  return found
}

/** What the resource routes need from the Anthropic stub around them. */
export interface ResourceRouteHelpers {
  /** The request's fault or missing/invalid credentials answered, else `undefined`. */
  early(c: StubContext): Response | undefined
  /** An Anthropic error response. */
  apiError(c: StubContext, status: number, type: string, message: string): Response
  /** The reply text of every message. */
  reply: string
}

/** A page of `items` in Anthropic's `{data, has_more, first_id, last_id}` form (newest first). */
const page = <T extends { id: string }>(c: StubContext, items: T[]) => {
  const limit = Math.min(1000, Math.max(1, Number(c.req.query('limit') ?? 20) || 20))
  const after = c.req.query('after_id')
  const start = after ? items.findIndex((item) => item.id === after) + 1 : 0
  const data = items.slice(start, start + limit)
  return {
    data,
    has_more: start + limit < items.length,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
  }
}

const now = (): string => new Date().toISOString()

/** A batch as it is once processed: ended, each request succeeded (or canceled). */
const finish = (c: StubContext, entry: { batch: MessageBatch; requests: BatchRequest[] }) => {
  const { batch } = entry
  if (batch.processing_status === 'ended') return
  const canceled = batch.processing_status === 'canceling'
  const total = entry.requests.length
  batch.processing_status = 'ended'
  batch.ended_at = now()
  batch.request_counts = {
    processing: 0,
    succeeded: canceled ? 0 : total,
    errored: 0,
    canceled: canceled ? total : 0,
    expired: 0,
  }
  batch.results_url = `${c.get('base')}/v1/messages/batches/${batch.id}/results`
}

const FILES_BETA = 'files-api-2025-04-14'

/**
 * Message batches (`/v1/messages/batches`: create, list, get, cancel, delete, JSONL results)
 * and files (`/v1/files`: multipart upload, list, get, content download, delete) in the real
 * wire formats. A batch is `in_progress` when created and `ended` the first time it is read
 * (its results then listed at `results_url`, an absolute URL of the stub, as the API's are);
 * a file is downloadable by whoever uploaded it.
 */
export const resourceRoutes = (app: Hono<StubEnv>, helpers: ResourceRouteHelpers): void => {
  const { early, apiError, reply } = helpers
  const batchOf = (c: StubContext) => {
    const entry = resourcesOf(c).batches.get(c.req.param('id') ?? '')
    return entry ?? apiError(c, 404, 'not_found_error', `message batch ${c.req.param('id')}`)
  }

  app.post('/v1/messages/batches', async (c) => {
    const stop = early(c)
    if (stop) return stop
    let body: { requests?: unknown }
    try {
      body = JSON.parse(await c.req.text()) as { requests?: unknown }
    } catch {
      return apiError(c, 400, 'invalid_request_error', 'the body is not JSON')
    }
    if (!Array.isArray(body.requests) || body.requests.length === 0) {
      return apiError(c, 400, 'invalid_request_error', 'requests: at least one is required')
    }
    const requests = body.requests as BatchRequest[]
    const created = new Date()
    const batch: MessageBatch = {
      id: randomId('msgbatch_01'),
      type: 'message_batch',
      processing_status: 'in_progress',
      request_counts: {
        processing: requests.length,
        succeeded: 0,
        errored: 0,
        canceled: 0,
        expired: 0,
      },
      created_at: created.toISOString(),
      expires_at: new Date(created.getTime() + 86_400_000).toISOString(),
      ended_at: null,
      archived_at: null,
      cancel_initiated_at: null,
      results_url: null,
    }
    resourcesOf(c).batches.set(batch.id, { batch, requests })
    return c.json(batch)
  })

  app.get('/v1/messages/batches', (c) => {
    const stop = early(c)
    if (stop) return stop
    const all = [...resourcesOf(c).batches.values()].reverse()
    for (const entry of all) finish(c, entry)
    return c.json(
      page(
        c,
        all.map((entry) => entry.batch)
      )
    )
  })

  app.get('/v1/messages/batches/:id', (c) => {
    const stop = early(c)
    if (stop) return stop
    const entry = batchOf(c)
    if (entry instanceof Response) return entry
    finish(c, entry)
    return c.json(entry.batch)
  })

  app.post('/v1/messages/batches/:id/cancel', (c) => {
    const stop = early(c)
    if (stop) return stop
    const entry = batchOf(c)
    if (entry instanceof Response) return entry
    if (entry.batch.processing_status === 'in_progress') {
      entry.batch.processing_status = 'canceling'
      entry.batch.cancel_initiated_at = now()
    }
    return c.json(entry.batch)
  })

  app.delete('/v1/messages/batches/:id', (c) => {
    const stop = early(c)
    if (stop) return stop
    const entry = batchOf(c)
    if (entry instanceof Response) return entry
    resourcesOf(c).batches.delete(entry.batch.id)
    return c.json({ id: entry.batch.id, type: 'message_batch_deleted' })
  })

  app.get('/v1/messages/batches/:id/results', (c) => {
    const stop = early(c)
    if (stop) return stop
    const entry = batchOf(c)
    if (entry instanceof Response) return entry
    if (entry.batch.processing_status !== 'ended') {
      return apiError(c, 400, 'invalid_request_error', 'the batch is still processing')
    }
    const canceled = entry.batch.request_counts.canceled > 0
    // One JSON object per line, streamed a line per chunk, as the API sends the results.
    const lines = entry.requests.map((request): MessageBatchIndividualResponse => {
      if (canceled) return { custom_id: request.custom_id, result: { type: 'canceled' } }
      const model = typeof request.params?.model === 'string' ? request.params.model : 'claude'
      const message = buildMessage({
        model,
        text: reply,
        inputTokens: estimateTokens(JSON.stringify(request.params?.messages ?? '')),
      })
      return { custom_id: request.custom_id, result: { type: 'succeeded', message } }
    })
    const encoder = new TextEncoder()
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const line = lines.shift()
        if (line) controller.enqueue(encoder.encode(`${JSON.stringify(line)}\n`))
        else controller.close()
      },
    })
    return c.body(body, 200, { 'content-type': 'application/binary' })
  })

  const fileOf = (c: StubContext) =>
    resourcesOf(c).files.get(c.req.param('id') ?? '') ??
    apiError(c, 404, 'not_found_error', `file ${c.req.param('id')}`)

  app.post('/v1/files', async (c) => {
    const stop = early(c)
    if (stop) return stop
    const type = c.req.header('content-type') ?? ''
    if (!type.startsWith('multipart/form-data')) {
      return apiError(c, 400, 'invalid_request_error', 'the body must be multipart/form-data')
    }
    let form: FormData
    try {
      const bytes = await c.req.arrayBuffer()
      form = await new Response(bytes, { headers: { 'content-type': type } }).formData()
    } catch {
      return apiError(c, 400, 'invalid_request_error', 'the multipart body cannot be read')
    }
    const file = form.get('file')
    if (!(file instanceof Blob)) {
      return apiError(c, 400, 'invalid_request_error', 'file: Field required')
    }
    const bytes = new Uint8Array(await file.arrayBuffer())
    const meta: FileMetadata = {
      id: randomId('file_011C'),
      type: 'file',
      filename: file instanceof File ? file.name : 'upload',
      mime_type: file.type || 'application/octet-stream',
      size_bytes: bytes.byteLength,
      created_at: now(),
      downloadable: true,
    }
    resourcesOf(c).files.set(meta.id, { meta, bytes })
    return c.json(meta)
  })

  app.get('/v1/files', (c) => {
    const stop = early(c)
    if (stop) return stop
    const all = [...resourcesOf(c).files.values()].reverse().map((entry) => entry.meta)
    return c.json(page(c, all))
  })

  app.get('/v1/files/:id', (c) => {
    const stop = early(c)
    if (stop) return stop
    const entry = fileOf(c)
    return entry instanceof Response ? entry : c.json(entry.meta)
  })

  app.get('/v1/files/:id/content', (c) => {
    const stop = early(c)
    if (stop) return stop
    const entry = fileOf(c)
    if (entry instanceof Response) return entry
    const { bytes, meta } = entry
    // Sent in two chunks, so a relay that does not stream (or mangles bytes) shows.
    const half = Math.floor(bytes.byteLength / 2)
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, half))
        controller.enqueue(bytes.slice(half))
        controller.close()
      },
    })
    return c.body(body, 200, {
      'content-type': meta.mime_type,
      'content-disposition': `attachment; filename="${meta.filename}"`,
    })
  })

  app.delete('/v1/files/:id', (c) => {
    const stop = early(c)
    if (stop) return stop
    const entry = fileOf(c)
    if (entry instanceof Response) return entry
    resourcesOf(c).files.delete(entry.meta.id)
    return c.json({ id: entry.meta.id, type: 'file_deleted' })
  })
}

/** The `anthropic-beta` value the Files API asks for (the stub records it, not requires it). */
export { FILES_BETA }
