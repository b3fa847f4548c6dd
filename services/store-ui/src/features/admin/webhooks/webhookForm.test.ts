import { describe, expect, it } from 'vitest';
import { deliveryLook, toggleEvent, validateWebhook } from './webhookForm';

describe('webhook form', () => {
  it('needs a full http(s) address without credentials and at least one event', () => {
    expect(validateWebhook({ url: 'https://hooks.example.com/in', description: '', events: ['order.placed'] })).toEqual({});
    expect(validateWebhook({ url: 'hooks.example.com', description: '', events: ['order.placed'] }).url).toBeTruthy();
    expect(validateWebhook({ url: 'ftp://example.com', description: '', events: ['order.placed'] }).url).toBeTruthy();
    expect(validateWebhook({ url: 'https://u:p@example.com', description: '', events: ['order.placed'] }).url).toMatch(/user name/);
    expect(validateWebhook({ url: 'https://example.com', description: '', events: [] }).events).toBeTruthy();
    expect(validateWebhook({ url: 'https://example.com', description: 'x'.repeat(201), events: ['ping'] }).description).toBeTruthy();
  });

  it('toggles events without repeats', () => {
    expect(toggleEvent([], 'order.placed')).toEqual(['order.placed']);
    expect(toggleEvent(['order.placed', 'product.changed'], 'order.placed')).toEqual(['product.changed']);
    expect(toggleEvent(['product.changed'], 'order.cancelled')).toEqual(['order.cancelled', 'product.changed']);
  });

  it('describes deliveries by their state', () => {
    expect(deliveryLook({ status: 'succeeded', attempts: 2, lastStatusCode: 200 })).toEqual({ label: 'Delivered (200)', color: 'success' });
    expect(deliveryLook({ status: 'pending', attempts: 1, lastStatusCode: 500 }).label).toBe('Retrying (HTTP 500)');
    expect(deliveryLook({ status: 'pending', attempts: 1, lastStatusCode: null }).label).toBe('Retrying (no answer)');
    expect(deliveryLook({ status: 'pending', attempts: 0 }).label).toBe('Queued');
    expect(deliveryLook({ status: 'failed', attempts: 10, lastStatusCode: 503 }).color).toBe('error');
  });
});
