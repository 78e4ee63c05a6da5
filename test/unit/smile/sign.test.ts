import { describe, expect, it } from 'vitest';
import { signRequest, signedFields, verifySignature } from '../../../src/smile/sign.js';

describe('signRequest', () => {
  it('matches the published vector (smile-api.md §2.1)', () => {
    expect(signRequest('test-api-key-123', '085', '2025-06-01T10:15:30.123Z')).toBe(
      'tQ4TnD2VJg26s+eLnxhqo7sWCcp2NLRx3BfGyonZZzk=',
    );
  });

  it('keeps the partner id as a string: 085 and 85 sign differently', () => {
    const ts = '2025-06-01T10:15:30.123Z';
    expect(signRequest('k', '085', ts)).not.toBe(signRequest('k', '85', ts));
  });

  it('signs the timestamp string exactly as given', () => {
    expect(signRequest('k', '085', '2025-06-01T10:15:30.123Z')).not.toBe(
      signRequest('k', '085', '2025-06-01T10:15:30.123+00:00'),
    );
  });
});

describe('signedFields', () => {
  it('uses an ISO 8601 UTC timestamp with milliseconds', () => {
    const fields = signedFields('k', '085', new Date('2025-06-01T10:15:30.123Z'));
    expect(fields.timestamp).toBe('2025-06-01T10:15:30.123Z');
    expect(fields.signature).toBe(signRequest('k', '085', fields.timestamp));
  });
});

describe('verifySignature', () => {
  const ts = '2025-06-01T10:15:30.123Z';
  const good = signRequest('test-api-key-123', '085', ts);
  it('accepts the right signature', () => {
    expect(verifySignature('test-api-key-123', '085', ts, good)).toBe(true);
  });
  it.each([
    ['another key', 'other-key', '085', ts, good],
    ['another partner', 'test-api-key-123', '086', ts, good],
    ['another timestamp', 'test-api-key-123', '085', '2025-06-01T10:15:31.123Z', good],
    ['a truncated signature', 'test-api-key-123', '085', ts, good.slice(0, 20)],
    ['a missing signature', 'test-api-key-123', '085', ts, undefined],
    ['a numeric timestamp', 'test-api-key-123', '085', 1717236930, good],
    ['an empty signature', 'test-api-key-123', '085', ts, ''],
  ])('refuses %s', (_name, key, partner, timestamp, signature) => {
    expect(verifySignature(key, partner, timestamp, signature)).toBe(false);
  });
});
