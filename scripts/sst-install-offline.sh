#!/usr/bin/env bash
# Install SST's platform (component sources, config.d.ts, Pulumi packages) into .sst/platform
# without the internet: the flags stop the SST CLI from downloading Pulumi and bun, which fails
# offline, and from phoning home. The infra type-check and infra tests need .sst/platform.
#
# Idempotent: skips when .sst/platform was installed by the pinned sst version and has the AWS
# provider. Set SST_FORCE_INSTALL=1 to reinstall.
set -euo pipefail
cd "$(dirname "$0")/.."

export SST_SKIP_DEPENDENCY_CHECK=1 SST_NO_BUN=1 SST_TELEMETRY_DISABLED=1 AWS_EC2_METADATA_DISABLED=true

want=$(node -p 'require("./node_modules/sst/package.json").version')
have=$(cat .sst/platform/version 2>/dev/null || true)
if [[ "${SST_FORCE_INSTALL:-}" != 1 && "$have" == "$want" \
  && -f .sst/platform/config.d.ts && -f .sst/platform/node_modules/@pulumi/aws/package.json ]]; then
  echo "sst-install-offline: .sst/platform already at sst $want, skipping"
  exit 0
fi

echo "sst-install-offline: installing the sst $want platform into .sst/platform"
# The stage is irrelevant to the install; "ci" keeps it from guessing a personal stage.
npx --no-install sst install --stage ci
test -f .sst/platform/config.d.ts || { echo "sst-install-offline: .sst/platform/config.d.ts missing after install" >&2; exit 1; }
