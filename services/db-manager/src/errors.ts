// Errors the API maps to status codes: names say what went wrong, fields carry the facts.

export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** The request is valid but the topology does not allow it now (busy, unhealthy target, errant GTIDs). */
export class ConflictError extends Error {
  constructor(
    message: string,
    readonly facts: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ConflictError';
  }
}
