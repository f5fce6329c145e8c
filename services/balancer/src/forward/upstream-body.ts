// A backend's response body as the forwarder receives it from undici's low-level dispatch() API.
// undici's request() wraps every call in an AsyncResource, a promise adapter and a body with
// fetch-style mixins, and a Readable piped into the client response adds a dozen listeners per
// request; on a proxy's hot path that bookkeeping cost more than the proxying. An UpstreamBody is
// written straight into the client response in the common case, and turned into a Readable only
// for a consumer that needs one (the cache's tee, compression).
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/** Bytes buffered before a consumer attaches; beyond this the backend socket is paused. */
const HIGH_WATER = 64 * 1024;

/** Told once when the body has ended, failed or been discarded: the backend's slot is free again. */
export interface SettleListener {
  bodySettled(): void;
}

/** Told once when writing the body into the client response is over. */
export interface WriteListener {
  /** True when the whole body was written; false when either side failed (the client connection is then destroyed). */
  bodyWritten(complete: boolean): void;
}

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
  private failed: Error | undefined = undefined;
  private settled = false;
  private sink: ServerResponse | undefined = undefined;
  private readable: BodyReadable | undefined = undefined;
  private resume: (() => void) | undefined = undefined;
  private paused = false;
  private settleListener: SettleListener | undefined = undefined;
  private writeListener: WriteListener | undefined = undefined;
  /**
   * The last chunk held back until the backend's end, when it completes the declared length: the
   * client then gets it with res.end(chunk), one write with no cork and uncork round trip.
   */
  private held: Buffer | undefined = undefined;
  /** The declared Content-Length when known (-1 otherwise): only then can a chunk be known to be the last one. */
  private declared = -1;

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
   * and tells `listener` once how that went (the client connection is destroyed when it failed,
   * so the response cannot look complete). `declaredLength` (the response's Content-Length, or
   * -1) lets the last chunk go out together with the end of the response.
   */
  writeTo(res: ServerResponse, listener: WriteListener, closeWatched = false, declaredLength = -1): void {
    if (this.claimed) throw new Error('the body is already being consumed');
    this.sink = res;
    this.writeListener = listener;
    this.declared = declaredLength;
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
      // The whole body arrived before the writer: headers and body leave in one write.
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

  /** The client response closed: if the body had not ended, stop reading it (aborts the backend request). */
  clientClosed(): void {
    if (!this.ended) {
      this.held = undefined;
      this.discard(new Error('client closed the connection'));
      this.finishWrite(false);
    }
  }

  private finishWrite(complete: boolean): void {
    const listener = this.writeListener;
    this.writeListener = undefined;
    listener?.bodyWritten(complete);
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
    const before = this.bytes;
    this.bytes = before + chunk.length;
    let more: boolean;
    const sink = this.sink;
    if (sink) {
      if (this.bytes === this.declared && !this.ended) {
        // The declared length is complete: undici's end follows at once, and this chunk with it.
        this.held = chunk;
        return true;
      }
      more = sink.write(chunk);
      if (!more) this.waitDrain(sink);
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
    const sink = this.sink;
    if (sink) {
      const held = this.held;
      this.held = undefined;
      if (held !== undefined) sink.end(held);
      else sink.end();
      this.finishWrite(true);
    } else if (this.readable) this.readable.push(null);
    this.settle();
  }

  /** From undici: the backend's body failed midway (reset, timeout, length mismatch). */
  fail(err: Error): void {
    if (this.ended || this.failed) return;
    this.failed = err;
    this.abort = undefined;
    this.held = undefined;
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
   * Tells `listener` once when the body has ended, failed or been discarded (frees the backend's
   * slot); at once if that already happened: a small body is often complete before its headers
   * reach the code that asks.
   */
  whenSettled(listener: SettleListener): void {
    if (this.settled) listener.bodySettled();
    else this.settleListener = listener;
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    const listener = this.settleListener;
    this.settleListener = undefined;
    listener?.bodySettled();
  }
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
