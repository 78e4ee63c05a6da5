import { describe, expect, it } from 'vitest';
import { AuthError, UsageError } from '../../../src/errors.js';
import { assertCallbackUrl, isLoopbackUrl } from '../../../src/config/validate.js';
import {
  assertProfileName,
  isValidProfileName,
  normalizeBaseUrl,
  normalizePartnerId,
  parseEnvironment,
} from '../../../src/config/validate.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('isLoopbackUrl', () => {
  it.each([
    'http://localhost:8080/v1',
    'http://LOCALHOST/v1',
    'http://127.0.0.1:1234/v1',
    'http://127.255.3.4/v1',
    'http://127.1/v1',
    'http://[::1]:9000/v1',
    'http://[0:0:0:0:0:0:0:1]/v1',
    'http://[::ffff:127.0.0.1]/v1',
  ])('%s is loopback', (url) => {
    expect(isLoopbackUrl(url)).toBe(true);
  });

  it.each([
    'http://example.com/v1',
    'http://128.0.0.1/v1',
    'http://10.0.0.1/v1',
    'http://localhost.example.com/v1',
    'http://127.0.0.1.nip.io/v1',
    'http://[::2]/v1',
    'not a url',
  ])('%s is not loopback', (url) => {
    expect(isLoopbackUrl(url)).toBe(false);
  });
});

describe('normalizeBaseUrl', () => {
  it('accepts https and strips trailing slashes', () => {
    expect(normalizeBaseUrl('https://testapi.smileidentity.com/v1/', 'sandbox')).toBe(
      'https://testapi.smileidentity.com/v1',
    );
    expect(normalizeBaseUrl('https://api.smileidentity.com/v1//', 'production')).toBe(
      'https://api.smileidentity.com/v1',
    );
    expect(normalizeBaseUrl('https://proxy.example.com/smile/', 'production')).toBe('https://proxy.example.com/smile');
  });

  it('allows plain http for loopback hosts in sandbox', () => {
    expect(normalizeBaseUrl('http://127.0.0.1:4010/v1/', 'sandbox')).toBe('http://127.0.0.1:4010/v1');
    expect(normalizeBaseUrl('http://localhost:4010/v1', 'sandbox')).toBe('http://localhost:4010/v1');
    expect(normalizeBaseUrl('http://[::1]:4010/v1', 'sandbox')).toBe('http://[::1]:4010/v1');
  });

  it('refuses plain http for a non-loopback host, naming the reason', () => {
    const error = thrown(() => normalizeBaseUrl('http://testapi.smileidentity.com/v1', 'sandbox', 'SMILE_BASE_URL'));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as UsageError).message).toMatch(/SMILE_BASE_URL uses plain http .* not loopback/);
  });

  it('refuses any plain http in production, loopback included', () => {
    const error = thrown(() => normalizeBaseUrl('http://127.0.0.1:4010/v1', 'production'));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/production refuses/);
  });

  it('refuses other schemes, credentials in the URL, queries and garbage', () => {
    for (const url of [
      'ftp://x/v1',
      'https://u:p@x.com/v1',
      'https://x.com/v1?a=1',
      'https://x.com/v1#f',
      'x.com/v1',
    ]) {
      expect(thrown(() => normalizeBaseUrl(url, 'sandbox'))).toBeInstanceOf(UsageError);
    }
  });
});

describe('assertCallbackUrl', () => {
  it('requires https in production', () => {
    expect(assertCallbackUrl('https://hooks.example.com/smile', 'production')).toBe('https://hooks.example.com/smile');
    expect(thrown(() => assertCallbackUrl('http://hooks.example.com/smile', 'production'))).toBeInstanceOf(UsageError);
    expect(thrown(() => assertCallbackUrl('http://127.0.0.1:9000/cb', 'production'))).toBeInstanceOf(UsageError);
  });

  it('accepts plain http in sandbox, for any host', () => {
    expect(assertCallbackUrl('http://hooks.example.com/smile', 'sandbox')).toBe('http://hooks.example.com/smile');
    expect(assertCallbackUrl('http://127.0.0.1:9000/cb/', 'sandbox')).toBe('http://127.0.0.1:9000/cb/');
  });

  it('refuses non-URLs and other schemes', () => {
    expect(thrown(() => assertCallbackUrl('hooks.example.com', 'sandbox'))).toBeInstanceOf(UsageError);
    expect(thrown(() => assertCallbackUrl('ftp://hooks.example.com', 'sandbox'))).toBeInstanceOf(UsageError);
  });
});

describe('names, partner ids, environments', () => {
  it('validates profile names', () => {
    for (const name of ['sandbox', 'acme.prod', 'a_b-c', 'x'.repeat(64)]) expect(isValidProfileName(name)).toBe(true);
    for (const name of ['', 'a b', 'a/b', 'x'.repeat(65), '..', '__proto__', 'é']) {
      expect(thrown(() => assertProfileName(name))).toBeInstanceOf(UsageError);
    }
  });

  it('keeps partner ids as strings with leading zeros', () => {
    expect(normalizePartnerId('085')).toBe('085');
    expect(normalizePartnerId(' 0042\n')).toBe('0042');
    expect(thrown(() => normalizePartnerId(''))).toBeInstanceOf(UsageError);
    expect(thrown(() => normalizePartnerId(85))).toBeInstanceOf(UsageError);
    expect(thrown(() => normalizePartnerId('08 5'))).toBeInstanceOf(UsageError);
  });

  it('parses environments, naming the origin of a bad value', () => {
    expect(parseEnvironment('Production')).toBe('production');
    expect(parseEnvironment(' sandbox ')).toBe('sandbox');
    const error = thrown(() => parseEnvironment('prod', 'SMILE_ENV'));
    expect(error).toBeInstanceOf(UsageError);
    expect(error).not.toBeInstanceOf(AuthError);
    expect((error as UsageError).message).toContain('SMILE_ENV');
  });
});
