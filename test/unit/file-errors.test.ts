import { describe, expect, it } from 'vitest';
import { fileErrorKind, fileErrorReason } from '../../src/errors.js';

const failure = (code: string, message = code): NodeJS.ErrnoException => Object.assign(new Error(message), { code });

describe('file-error words', () => {
  it('gives words and a kind from one table', () => {
    expect([fileErrorReason(failure('ENOENT')), fileErrorKind(failure('ENOENT'))]).toEqual(['no such file', 'missing']);
    expect([fileErrorReason(failure('ENOTDIR')), fileErrorKind(failure('ENOTDIR'))]).toEqual([
      'a part of the path is not a directory',
      'missing',
    ]);
    expect([fileErrorReason(failure('EACCES')), fileErrorKind(failure('EPERM'))]).toEqual([
      'permission denied',
      'permission',
    ]);
    expect([fileErrorReason(failure('EISDIR')), fileErrorKind(failure('EISDIR'))]).toEqual([
      'it is a directory, not a file',
      'directory',
    ]);
    expect([fileErrorReason(failure('ENOSPC')), fileErrorKind(failure('ENOSPC'))]).toEqual([
      'the disk is full',
      'other',
    ]);
  });

  it('names unknown system errors by code and never repeats Node’s text', () => {
    expect(fileErrorReason(failure('EWHATEVER', "EWHATEVER: open '/secret/path'"))).toBe('system error EWHATEVER');
    expect(fileErrorReason(failure('ERR_INVALID_ARG_VALUE', 'path must be a string without null bytes'))).toBe(
      'the path contains a NUL byte',
    );
    expect(fileErrorReason(new Error('boom'))).toBe('an unexpected error');
    expect(fileErrorKind(undefined)).toBe('other');
    // Not an own key of the table: no prototype words.
    expect(fileErrorReason(failure('constructor'))).toBe('an unexpected error');
  });
});
