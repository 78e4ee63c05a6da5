/** --debug traces redact signing material wherever the wire carries it: JSON fields, URLs, S3 XML errors. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REDACTED, redactJson, redactText, redactUrl } from '../../src/smile/redact.js';
import { runCli } from '../helpers/run-cli.js';
import { MARKED_KEY } from './helpers.js';

const URL_SIGNATURE = 'UrlSig0123456789abcdefSECRET';
const S3_SIGNATURE = 'c0ffee11c0ffee22c0ffee33c0ffee44';

describe('redaction helpers', () => {
  it('redacts signature fields at any depth, pre-signed URL secrets and long base64', () => {
    const redacted = JSON.stringify(
      redactJson({
        signature: 'abc',
        nested: [{ Signature: 'x', api_key: 'k' }],
        url: `https://s3.example/b?X-Amz-Signature=${S3_SIGNATURE}&X-Amz-Credential=AKIA/x`,
        image: 'A'.repeat(400),
      }),
    );
    expect(redacted).not.toMatch(/"abc"|"x"|"k"|c0ffee|AKIA|AAAAAAAAAA/);
    expect(redactUrl(`https://h/p?Signature=${URL_SIGNATURE}&Expires=1`)).not.toContain(URL_SIGNATURE);
  });

  it('redacts S3 XML errors that echo what was signed', () => {
    const xml = `<?xml version="1.0"?><Error><Code>SignatureDoesNotMatch</Code><AWSAccessKeyId>AKIAEXAMPLE</AWSAccessKeyId><StringToSign>PUT\napplication/zip\n1700000000\n/bucket/key</StringToSign><SignatureProvided>${S3_SIGNATURE}</SignatureProvided><CanonicalRequest>PUT /k X-Amz-Signature=${S3_SIGNATURE}</CanonicalRequest></Error>`;
    const out = redactText(xml);
    expect(out).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(out).toContain(`<SignatureProvided>${REDACTED}</SignatureProvided>`);
    expect(out).not.toMatch(/AKIAEXAMPLE|c0ffee|application\/zip/);
    expect(redactText(`see https://s3.example/k?a=1&amp;X-Amz-Signature=${S3_SIGNATURE}&amp;b=2`)).not.toContain(
      S3_SIGNATURE,
    );
  });
});

describe('--debug against a storage server that refuses the zip', () => {
  it('keeps the upload URL signature and the S3 echo out of the trace', async () => {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        if (req.url === '/v1/upload') {
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({
              upload_url: `${origin}/bucket/zip?Expires=9999999999&Signature=${URL_SIGNATURE}`,
              ref_id: 'r',
              smile_job_id: '0000000001',
              code: '2202',
            }),
          );
          return;
        }
        res.statusCode = 403;
        res.setHeader('content-type', 'application/xml');
        res.end(
          `<?xml version="1.0"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message><SignatureProvided>${URL_SIGNATURE}</SignatureProvided><StringToSign>PUT\napplication/zip\n9999999999\n/bucket/zip</StringToSign></Error>`,
        );
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      const run = await runCli(
        ['register', '--debug', '--user-id', 'u', '--selfie', resolve('fixtures/selfies/demo.jpg'), '--no-wait'],
        {
          env: {
            SMILE_PARTNER_ID: '085',
            SMILE_API_KEY: MARKED_KEY,
            SMILE_BASE_URL: baseUrl,
            SMILE_CONFIG_DIR: '/nonexistent/smile',
          },
        },
      );
      expect(run.code).toBe(5);
      expect(run.stderr).toMatch(/\[debug\] ← 403 PUT/);
      expect(run.stderr).toContain('SignatureDoesNotMatch');
      expect(run.stderr).not.toContain(URL_SIGNATURE);
      expect(run.stderr).not.toContain('application/zip\n');
      expect(run.stderr + run.stdout).not.toContain(MARKED_KEY);
    } finally {
      server.close();
    }
  });
});
