//! The webhook endpoint form: what the admin typed, checked before it is sent (the service checks
//! again, including whether the address is one webhooks may reach).

export interface WebhookDraft {
  url: string;
  description: string;
  events: string[];
}

export type FieldErrors = Partial<Record<'url' | 'events' | 'description', string>>;

export function validateWebhook(draft: WebhookDraft): FieldErrors {
  const errors: FieldErrors = {};
  const url = draft.url.trim();
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    errors.url = 'Enter the full address, starting with https://';
  } else if (parsed.username || parsed.password) {
    errors.url = 'The address must not contain a user name or password';
  } else if (url.length > 2048) {
    errors.url = 'The address is too long';
  }
  if (draft.events.length === 0) errors.events = 'Choose at least one event';
  if (draft.description.trim().length > 200) errors.description = 'At most 200 characters';
  return errors;
}

/** Adds or removes an event, keeping the list sorted and free of repeats. */
export function toggleEvent(events: string[], event: string): string[] {
  const set = new Set(events);
  if (set.has(event)) set.delete(event);
  else set.add(event);
  return [...set].sort();
}

export type DeliveryLook = { label: string; color: 'default' | 'success' | 'error' | 'warning' };

/** How a delivery's state reads in the log. */
export function deliveryLook(delivery: { status: string; attempts: number; lastStatusCode?: number | null }): DeliveryLook {
  if (delivery.status === 'succeeded') return { label: `Delivered (${delivery.lastStatusCode ?? 200})`, color: 'success' };
  if (delivery.status === 'failed') return { label: `Failed after ${delivery.attempts} attempts`, color: 'error' };
  if (delivery.attempts === 0) return { label: 'Queued', color: 'default' };
  const last = delivery.lastStatusCode ? `HTTP ${delivery.lastStatusCode}` : 'no answer';
  return { label: `Retrying (${last})`, color: 'warning' };
}
