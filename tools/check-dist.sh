#!/usr/bin/env bash
# Rebuilds dist/ from the sources and fails when it differs from the committed bundle (a changed,
# deleted or new file alike). The one freshness check: .ci/run, the CI workflow and the release
# workflow all run this script. Needs `npm ci` first.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run bundle
if [ -n "$(git status --porcelain -- dist)" ]; then
  echo "dist/ is stale: run 'npm run bundle' and commit the result." >&2
  git status --short -- dist >&2
  exit 1
fi
