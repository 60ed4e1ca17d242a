// One error type for every answer that is not a 2xx: the router turns it into
// a JSON body { error, message, field?, ...details, requestId }.
export class HttpError extends Error {
  constructor(status, code, message, extra = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

export const badRequest = (field, message) =>
  new HttpError(400, 'validation_error', `${field}: ${message}`, { field });

export const notFound = (what) => new HttpError(404, 'not_found', `${what} not found`);
