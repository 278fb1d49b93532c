#!/usr/bin/env bash
# Make sure Debian's chromium is installed for the browser tests (the fleet view in the Dagster UI, report.html).
# Playwright (a dev dependency) drives it with executable_path=/usr/bin/chromium; `playwright install` is never
# used (it downloads a browser at run time). Called by `make test`; a no-op when chromium is there.
set -euo pipefail

browser="${TRANSCRIPTS_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$browser" ]; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: $browser not found and apt-get is not available. Install Chromium and set TRANSCRIPTS_CHROMIUM=/path/to/chromium." >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo=(sudo -n); else
    echo "error: installing chromium needs root: run 'apt-get install -y chromium' as root, or set TRANSCRIPTS_CHROMIUM." >&2
    exit 1
  fi
fi
echo ">> installing Debian's chromium for the browser tests (apt-get install -y chromium)"
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get install -y --no-install-recommends chromium >/tmp/ensure-browser.log 2>&1; then
  "${sudo[@]}" apt-get update >>/tmp/ensure-browser.log 2>&1
  "${sudo[@]}" apt-get install -y --no-install-recommends chromium >>/tmp/ensure-browser.log 2>&1 || {
    tail -20 /tmp/ensure-browser.log >&2
    echo "error: apt-get install chromium failed (log above, full log in /tmp/ensure-browser.log)" >&2
    exit 1
  }
fi
"$browser" --version
