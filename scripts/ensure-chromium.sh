#!/usr/bin/env bash
# Debian's Chromium for the browser e2e tests (test/e2e/ui/), driven by playwright-core; idempotent.
# No browser is downloaded by npm or Playwright: apt installs the distribution's build (see README, Testing).
set -euo pipefail
if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then exit 0; fi
if dpkg -s chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "chromium is not installed and this is not root: the browser tests will be skipped (apt-get install chromium)" >&2
  exit 0
fi
echo "installing Debian's chromium for the browser tests (once)…" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
