//! What the recovery pages share: reading the link's token and recognising a link that no longer works.

import { ApiError } from '../../api/problem';

/** The users service's one answer for an unknown, used or expired link. */
export const INVALID_LINK_MESSAGE = 'The link is invalid or has expired.';

export function isInvalidLink(error: unknown): boolean {
  return error instanceof ApiError && error.status === 422 && error.code === 'invalid-link';
}
