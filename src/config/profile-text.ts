/** The human renderings of `smile profile add|set|show` (the JSON documents are profile-ops.ts's). */
import type { ProfileAddedDocument, ProfileSetDocument } from './profile-ops.js';

const CURRENT_LINES: Record<ProfileAddedDocument['current_reason'], (name: string) => string> = {
  use: () => 'current profile now (--use)',
  sandbox: () => 'current profile now (a sandbox profile; --no-use keeps the current one)',
  kept: () => 'current profile (it already was)',
  'no-use': (name) => `not current (--no-use): name it with --profile ${name}, or \`smile profile use ${name}\``,
  'other-current': (name) =>
    `not current (another profile is): name it with --profile ${name}, or \`smile profile use ${name}\``,
  production: (name) =>
    `not current: a production profile is used only when named. Pass --profile ${name}, or make it current with \`smile profile use ${name}\``,
};

export function describeAddedProfile(added: ProfileAddedDocument): string {
  const stored =
    added.key_store === 'keyring'
      ? `  key ${added.api_key} stored in ${added.key_location}`
      : `  key ${added.api_key} stored in ${added.key_location}${added.key_store_reason ? `, not in the OS keyring: ${added.key_store_reason}` : ''}`;
  return [
    `✓ profile ${added.name} ${added.replaced ? 'replaced' : 'added'} (${added.current ? 'current' : 'not current'})`,
    `  partner ${added.partner_id} · ${added.environment} · ${added.base_url}`,
    stored,
    ...(added.keys_migrated.length > 0
      ? [
          `  moved the stored keys of ${added.keys_migrated.join(', ')} from credentials.json into ${added.key_location}`,
        ]
      : []),
    `  ${CURRENT_LINES[added.current_reason](added.name)}`,
    `  Next: smile doctor${added.current ? '' : ` --profile ${added.name}`}`,
  ].join('\n');
}

export function describeSetProfile(set: ProfileSetDocument): string {
  const head =
    set.changed.length === 0
      ? `✓ profile ${set.name} unchanged (it already had these values)`
      : `✓ profile ${set.name} updated: ${set.changed.join(', ')}`;
  return [
    head,
    `  partner ${set.partner_id} · ${set.environment} · ${set.base_url}${set.base_url_is_default ? '' : ' (custom base URL)'}`,
    `  callback ${set.callback_url ?? '(none)'}`,
    ...(set.changed.includes('partner_id')
      ? [
          `  The stored key was kept: if it belongs to another partner id, store the right one with \`smile profile add ${set.name} --partner-id ${set.partner_id} --env ${set.environment} --force\``,
        ]
      : []),
  ].join('\n');
}
