// How the cluster primary answers an admin call it passed to its workers. A read goes to one worker;
// a change (drain, purge) goes to every worker, since each has its own backend set and cache, and the
// caller gets one answer that speaks for all of them.

export interface WorkerAnswer {
  pid: number;
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

export interface MergedAnswer {
  status: number;
  contentType: string;
  body: string | Buffer;
}

function json(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8')) as unknown;
  } catch {
    return buf.toString('utf8');
  }
}

/**
 * One answer for a change every worker made. Same status everywhere: the first worker's answer, with
 * `purged` (the cache's count of removed copies) summed over the workers. Different statuses (one
 * worker refused what another did): 502 with each worker's answer, so nothing is hidden.
 */
export function mergeAnswers(answers: WorkerAnswer[]): MergedAnswer {
  if (answers.length === 0) return { status: 503, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ error: 'no worker is running' }) };
  const first = answers[0]!;
  if (answers.some((a) => a.status !== first.status)) {
    return {
      status: 502,
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify({ error: 'the workers answered differently', workers: answers.map((a) => ({ pid: a.pid, status: a.status, body: json(a.body) })) }),
    };
  }
  const bodies = answers.map((a) => json(a.body));
  const counts = bodies.map((b) => (b !== null && typeof b === 'object' && typeof (b as { purged?: unknown }).purged === 'number' ? (b as { purged: number }).purged : undefined));
  if (counts.every((c) => c !== undefined)) {
    const summed = { ...(bodies[0] as object), purged: counts.reduce((sum, c) => sum! + c!, 0), workers: answers.length };
    return { status: first.status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(summed) };
  }
  return { status: first.status, contentType: first.contentType ?? 'application/octet-stream', body: first.body };
}
