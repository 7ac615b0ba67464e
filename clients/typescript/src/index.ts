import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema";

export type { components, operations, paths } from "./schema";

/** A client of the whole API: `GET`, `POST`, `PUT`, `PATCH`, `DELETE` typed by path. */
export type ApiClient = Client<paths>;

/** A schema of the OpenAPI document by name, e.g. `Schema<"ProductRead">`. */
export type Schema<Name extends keyof components["schemas"]> = components["schemas"][Name];

/**
 * A client of the API at `baseUrl` (scheme and host, no `/api`: paths start with it). With
 * `token`, an access token from `POST /api/auth/login`, every request carries
 * `Authorization: Bearer <token>`.
 */
export function createApiClient(baseUrl: string, token?: string): ApiClient {
  return createClient<paths>({
    baseUrl,
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
}

/** An answer other than success: its HTTP status and the error envelope. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    const message = (body as { message?: unknown } | undefined)?.message;
    super(`HTTP ${status}: ${typeof message === "string" ? message : "no message"}`);
    this.name = "ApiError";
  }
}

/** The `data` of a successful envelope; an `ApiError` for any other answer. */
export function envelopeData<Data>(result: {
  data?: { data?: Data | null };
  error?: unknown;
  response: Response;
}): Data {
  if (result.error !== undefined || result.data?.data == null) {
    throw new ApiError(result.response.status, result.error ?? result.data);
  }
  return result.data.data;
}
