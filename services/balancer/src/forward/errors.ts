// Why a request could not be forwarded for reasons that are not the backends' (those are
// BackendError in types.ts); errors/handle.ts turns each into the client's answer.

/** The request body exceeded --max-body-size while streaming (413). */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
  }
}

/** The request cannot be sent as it is (undici refused it: bad path or header); the client's fault. */
export class UnsendableRequestError extends Error {
  override readonly name = 'UnsendableRequestError';
}

/** The client went away before the backend answered. */
export class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError';
}
