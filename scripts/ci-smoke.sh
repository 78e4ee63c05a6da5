#!/usr/bin/env bash
# CI smoke test of a Smile ID integration, as in the README's CI recipe:
# start the emulator, register one selfie expecting "approved" and one expecting "rejected";
# any other exit code fails the build. Run from the repository root after `npm ci`.
set -euo pipefail
PORT="${SMILE_EMULATOR_PORT:-18080}"
KEY="ci-emulator-key-not-a-secret"
SELFIE="${SMILE_SELFIE:-fixtures/selfies/demo.jpg}"

node bin/smile.js emulator --port "$PORT" --api-key "$KEY" --processing-ms 300 >/dev/null &
EMULATOR_PID=$!
trap 'kill "$EMULATOR_PID" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  node -e "fetch('http://127.0.0.1:$PORT/v1/services').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))" && break
  sleep 0.1
done

export SMILE_BASE_URL="http://127.0.0.1:$PORT/v1" SMILE_PARTNER_ID=085 SMILE_API_KEY="$KEY"
run="ci-$$-$(date +%s)"
node bin/smile.js register --user-id "$run-ok" --selfie "$SELFIE" --sandbox-result approve --expect approved --json >/dev/null
node bin/smile.js register --user-id "$run-no" --selfie "$SELFIE" --sandbox-result reject --expect rejected --json >/dev/null
echo "smoke test passed: approved and rejected as expected"
