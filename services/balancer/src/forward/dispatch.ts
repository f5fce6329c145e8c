// One request on an undici pool through its low-level dispatch() API. undici's request() wraps
// every call in an AsyncResource, a promise adapter and a body with fetch-style mixins, and a
// Readable piped into the client response adds a dozen listeners per request; on a proxy's hot
// path that bookkeeping cost more than the proxying. Here a plain handler resolves with the status
// and headers (hop-by-hop removed), and the body is an UpstreamBody: written straight into the
// client response in the common case, turned into a Readable only for a consumer that needs one
// (the cache's tee, compression).
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { responseHeaders, type HeaderMap } from '../request/hop-by-hop.js';

export interface DispatchedResponse {
  status: number;
  headers: HeaderMap;
  body: UpstreamBody;
}

/** Bytes buffered before a consumer attaches; beyond this the backend socket is paused. */
const HIGH_WATER = 64 * 1024;

class BodyReadable extends Readable {
  constructor(private readonly source: UpstreamBody) {
    super({ highWaterMark: HIGH_WATER });
  }

  override _read(): void {
    this.source.resumeUpstream();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.source.discard(err ?? undefined);
    callback(err);
  }
}

/**
 * A backend's response body. Backpressure either way: when the consumer (the client socket or a
 * Readable's buffer) is full, undici is told to pause the backend socket, and resumed on drain.
 * Discarding the body before its end aborts the upstream request, so a half-read connection is
 * never reused.
 */
export class UpstreamBody {
  /** Body bytes received so far (the access log's byte count). */
  bytes = 0;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private ended = false;
  private failed: Error | undefined;
  private settled = false;
  private sink: ServerResponse | undefined;
  private readable: BodyReadable | undefined;
  private resume: (() => void) | undefined;
  private paused = false;
  private onSettled: (() => void) | undefined;

  constructor(private abort: ((err: Error) => void) | undefined) {}

  /** A Readable has taken the body (or the direct path has): the other cannot be used. */
  get claimed(): boolean {
    return this.readable !== undefined || this.sink !== undefined;
  }

  /** The body as a Readable (created once); use this or writeTo, not both. */
  toReadable(): Readable {
    if (this.readable) return this.readable;
    if (this.sink) throw new Error('the body is already being written to the client');
    const r = new BodyReadable(this);
    this.readable = r;
    for (const chunk of this.buffered) r.push(chunk);
    this.buffered = [];
    this.bufferedBytes = 0;
    if (this.failed) r.destroy(this.failed);
    else if (this.ended) r.push(null);
    return r;
  }

  /**
   * Writes the body into the client response (headers already set) with backpressure, ends it,
   * and calls `done` once: true when the whole body was written, false when either side failed
   * (the client connection is then destroyed so the response cannot look complete).
   */
  writeTo(res: ServerResponse, done: (complete: boolean) => void, closeWatched = false): void {
    if (this.claimed) throw new Error('the body is already being consumed');
    this.sink = res;
    this.onWriteDone = done;
    // The balancer's server already listens for every response's close and calls clientClosed
    // (closeWatched): no second listener and closure per response.
    if (!closeWatched) res.on('close', () => this.clientClosed());
    const chunks = this.buffered;
    this.buffered = [];
    this.bufferedBytes = 0;
    if (this.failed) {
      res.destroy(this.failed);
      this.finishWrite(false);
      return;
    }
    if (this.ended) {
      // The common case for small pages: the whole body arrived with the headers.
      if (chunks.length === 1) res.end(chunks[0]);
      else {
        for (const c of chunks) res.write(c);
        res.end();
      }
      this.finishWrite(true);
      return;
    }
    for (const c of chunks) if (!res.write(c)) this.waitDrain(res);
    this.resumeUpstream();
  }

  private onWriteDone: ((complete: boolean) => void) | undefined;

  /** The client response closed: if the body had not ended, stop reading it (aborts the backend request). */
  clientClosed(): void {
    if (!this.ended) {
      this.discard(new Error('client closed the connection'));
      this.finishWrite(false);
    }
  }

  private finishWrite(complete: boolean): void {
    const done = this.onWriteDone;
    this.onWriteDone = undefined;
    done?.(complete);
  }

  private waitDrain(res: ServerResponse): void {
    if (this.paused) return;
    this.paused = true;
    res.once('drain', () => {
      this.paused = false;
      this.resumeUpstream();
    });
  }

  /** Lets undici read on after a pause (a no-op when not paused). */
  resumeUpstream(): void {
    if (this.paused && this.sink) return; // waiting for the client to drain
    const resume = this.resume;
    if (resume) {
      this.resume = undefined;
      resume();
    }
  }

  /** From undici: returns false to pause the backend socket until resumeUpstream. */
  data(chunk: Buffer, resume: () => void): boolean {
    this.bytes += chunk.length;
    let more: boolean;
    if (this.sink) {
      more = this.sink.write(chunk);
      if (!more) this.waitDrain(this.sink);
    } else if (this.readable) {
      more = this.readable.push(chunk);
    } else {
      this.buffered.push(chunk);
      this.bufferedBytes += chunk.length;
      more = this.bufferedBytes < HIGH_WATER;
    }
    if (!more) this.resume = resume;
    return more;
  }

  /** From undici: the backend's body ended at its declared length. */
  end(): void {
    this.ended = true;
    this.abort = undefined;
    if (this.sink) {
      this.sink.end();
      this.finishWrite(true);
    } else if (this.readable) this.readable.push(null);
    this.settle();
  }

  /** From undici: the backend's body failed midway (reset, timeout, length mismatch). */
  fail(err: Error): void {
    if (this.ended || this.failed) return;
    this.failed = err;
    this.abort = undefined;
    if (this.sink) {
      // Cut the client connection so the response cannot look whole.
      this.sink.destroy(err);
      this.finishWrite(false);
    } else if (this.readable) this.readable.destroy(err);
    this.settle();
  }

  /** Drops a body nobody will read; aborts the upstream request if it was still running. */
  discard(err?: Error): void {
    if (!this.ended && !this.failed) {
      this.failed = err ?? new Error('response body discarded');
      const abort = this.abort;
      this.abort = undefined;
      abort?.(this.failed);
    }
    this.buffered = [];
    this.settle();
  }

  /**
   * Runs `fn` once when the body has ended, failed or been discarded (frees the backend's slot);
   * at once if that already happened: a small body is often complete before its headers reach
   * the code that asks.
   */
  whenSettled(fn: () => void): void {
    if (this.settled) fn();
    else this.onSettled = fn;
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    const fn = this.onSettled;
    this.onSettled = undefined;
    fn?.();
  }
}

/** Something that can cancel a request that is waiting for its response (the client went away). */
export interface Cancellable {
  cancel: ((err: Error) => void) | undefined;
}

class Handler implements Dispatcher.DispatchHandler {
  private abort: ((err: Error) => void) | undefined;
  private body: UpstreamBody | undefined;
  private resume: (() => void) | undefined;

  constructor(
    private readonly resolve: (r: DispatchedResponse) => void,
    private readonly reject: (err: Error) => void,
    private readonly cancellable: Cancellable | undefined,
  ) {}

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort as (err: Error) => void;
    if (this.cancellable) this.cancellable.cancel = this.abort;
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    // 1xx informational responses (103 Early Hints) are not forwarded; wait for the final one.
    if (status < 200) return true;
    if (this.cancellable) this.cancellable.cancel = undefined;
    this.resume = resume;
    const body = new UpstreamBody(this.abort);
    this.body = body;
    this.resolve({ status, headers: responseHeaders(raw), body });
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.body!.data(chunk, this.resume!);
  }

  onComplete(): void {
    this.body?.end();
  }

  onError(err: Error): void {
    if (this.cancellable) this.cancellable.cancel = undefined;
    if (this.body) this.body.fail(err);
    else this.reject(err);
  }
}

/** Resolves when the final response headers arrive; rejects when the attempt fails before that. */
export function dispatch(pool: Dispatcher, options: Dispatcher.DispatchOptions, cancellable?: Cancellable): Promise<DispatchedResponse> {
  return new Promise((resolve, reject) => {
    pool.dispatch(options, new Handler(resolve, reject, cancellable));
  });
}

/** A body as a stream, whichever kind it is. */
export function asReadable(body: Readable | UpstreamBody): Readable {
  return body instanceof UpstreamBody ? body.toReadable() : body;
}

/** Drops a body we will not read; some bodies (undici's) emit an abort error when destroyed early. */
export function discardBody(body: Readable | UpstreamBody): void {
  if (body instanceof UpstreamBody) {
    body.discard();
    return;
  }
  body.on('error', () => {});
  body.destroy();
}
