/** The public JSON of `smile profile add|list|use|show|remove --json`: snake_case keys, one document each. */
import * as path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/run-cli.js';
import { tempDir } from './helpers.js';

const KEY = 'json-doc-key-0123456789';
const FILES = ['config_dir', 'config_file', 'credentials_file'];

describe('profile --json documents', () => {
  let env: NodeJS.ProcessEnv;
  let dir: string;
  beforeEach(async () => {
    const root = await tempDir('smile-profile-json-');
    dir = path.join(root, 'smile');
    env = { HOME: root, SMILE_CONFIG_DIR: dir };
  });
  const smile = async (argv: string[], stdin?: string) => {
    const run = await runCli([...argv, '--json'], { env, ...(stdin === undefined ? {} : { stdin }) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain(KEY);
    return run.json();
  };

  // Where stored keys live (issue 15): the OS keyring or the 0600 file, and why.
  const KEY_STORE = ['key_store', 'key_location', 'key_store_reason', 'keys_migrated'];
  const ADDED_KEY_STORE = ['current_reason', ...KEY_STORE];

  it('add, list, use, show and remove print their documents with snake_case keys', async () => {
    const added = await smile(
      ['profile', 'add', 'a', '--partner-id', '085', '--env', 'sandbox', '--api-key-file', '-'],
      KEY,
    );
    expect(Object.keys(added)).toEqual([
      'ok',
      'name',
      'partner_id',
      'environment',
      'base_url',
      'callback_url',
      'api_key',
      'current',
      'replaced',
      ...FILES,
      ...ADDED_KEY_STORE,
    ]);
    expect(added).toMatchObject({
      ok: true,
      name: 'a',
      partner_id: '085',
      environment: 'sandbox',
      api_key: 'json…',
      current: true,
      config_dir: dir,
    });
    await smile(
      ['profile', 'add', 'b', '--partner-id', '7', '--env', 'production', '--api-key-file', '-', '--no-use'],
      KEY,
    );

    const listed = await smile(['profile', 'list']);
    expect(Object.keys(listed)).toEqual(['ok', 'current_profile', 'profiles', ...FILES, ...KEY_STORE]);
    expect(listed['current_profile']).toBe('a');
    const entries = listed['profiles'] as Record<string, unknown>[];
    expect(entries.map((entry) => Object.keys(entry))).toEqual(
      Array(2).fill([
        'name',
        'current',
        'partner_id',
        'environment',
        'base_url',
        'base_url_is_default',
        'callback_url',
        'api_key',
      ]),
    );

    expect(await smile(['profile', 'use', 'b'])).toEqual({
      ok: true,
      current_profile: 'b',
      previous: 'a',
      changed: true,
    });

    const shown = await smile(['profile', 'show']);
    expect(Object.keys(shown)).toEqual([
      'ok',
      'profile',
      'current',
      'partner_id',
      'environment',
      'base_url',
      'callback_url',
      'api_key',
      'sources',
      'missing',
      ...FILES,
      'config_dir_source',
      'credentials_file_mode',
      'credentials_file_too_open',
      'api_key_shown',
      ...KEY_STORE,
    ]);
    expect(shown['sources']).toEqual({
      profile: 'default',
      partner_id: 'profile',
      api_key: 'credentials',
      environment: 'profile',
      base_url: 'default',
      callback_url: null,
    });

    expect(await smile(['profile', 'remove', 'b'])).toEqual({
      ok: true,
      removed: 'b',
      was_current: true,
      key_removed: true,
      current_profile: null,
    });
  });
});
