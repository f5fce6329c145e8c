// Content errors the routes turn into 404 and 409.

export class ContentNotFoundError extends Error {
  constructor(readonly what: string) {
    super(`${what} not found`);
    this.name = 'ContentNotFoundError';
  }
}

/** Someone else saved since this edit started: the client must reload and merge. */
export class VersionConflictError extends Error {
  constructor(readonly slug: string, readonly expected: number, readonly actual: number) {
    super(`${slug} is at version ${actual}, the edit was based on version ${expected}`);
    this.name = 'VersionConflictError';
  }
}

export class SlugTakenError extends Error {
  constructor(readonly slug: string) {
    super(`slug "${slug}" is already used`);
    this.name = 'SlugTakenError';
  }
}
