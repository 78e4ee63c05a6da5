import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { describeNetworkError, networkErrorCode } from '../../../src/http/network-error.js';

const coded = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('describeNetworkError', () => {
  it('says a listed code in words, with the code', () => {
    expect(describeNetworkError(coded('connect ECONNREFUSED 127.0.0.1:9', 'ECONNREFUSED'))).toBe(
      'connection refused (ECONNREFUSED)',
    );
    expect(describeNetworkError(coded('getaddrinfo ENOTFOUND nowhere.invalid', 'ENOTFOUND'))).toBe(
      'host not found in DNS (ENOTFOUND)',
    );
  });

  it("finds the code in fetch's cause, and keeps the message of an unlisted one", () => {
    const wrapped = new TypeError('fetch failed', { cause: coded('other side closed', 'UND_ERR_SOCKET') });
    expect(networkErrorCode(wrapped)).toBe('UND_ERR_SOCKET');
    expect(describeNetworkError(wrapped)).toBe('the connection was dropped (UND_ERR_SOCKET)');
    expect(
      describeNetworkError(
        new TypeError('fetch failed', { cause: coded('certificate has expired', 'CERT_HAS_EXPIRED') }),
      ),
    ).toBe('TLS error: certificate has expired (CERT_HAS_EXPIRED)');
    expect(describeNetworkError(coded('something odd', 'EODD'))).toBe('something odd (EODD)');
    expect(describeNetworkError(new Error('no code at all'))).toBe('no code at all');
  });

  it('describes a real refused connection from fetch', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const error: unknown = await fetch(`http://127.0.0.1:${port}/`).catch((failure: unknown) => failure);
    expect(describeNetworkError(error)).toBe('connection refused (ECONNREFUSED)');
  });
});
