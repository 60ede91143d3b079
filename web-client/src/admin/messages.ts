// What an API error means to the person, in their language.

import { ApiError } from './api';
import type { PortalDict } from './strings';

export function errorMessage(t: PortalDict, e: unknown): string {
  if (e instanceof ApiError) {
    switch (e.body.code) {
      case 'conflict':
        return t.conflict;
      case 'meeting_over':
        return t.over;
      case 'meeting_ended':
        return t.ended;
      case 'meeting_deleted':
        return t.deleted;
      case 'banned':
        return t.banned;
      case 'account_disabled':
        return t.accountDisabled;
      case 'not_found':
        return t.notFound;
      case 'guests_not_allowed':
        return t.noGuests;
      case 'meeting_not_open':
        return `${t.notOpen} ${new Date(e.body.opens_at ?? '').toLocaleString()}.`;
      case 'rate_limited':
        return t.rateLimited;
      default:
        return `${t.error} ${e.body.message}`;
    }
  }
  return `${t.error} ${String(e)}`;
}
