#!/bin/sh
# tools.sh: installs the pinned developer tools (Redocly CLI, Prism) from tools/package.json
# and tools/package-lock.json into tools/node_modules (git-ignored, never global).
# A fast no-op when they are already installed from the same package files.
set -eu

root=$(CDPATH= cd "$(dirname "$0")/.." && pwd)
tools="$root/tools"
need_major=18
need_minor=20   # Prism 5.14 wants Node >= 18.20.1, Redocly 1.34 >= 18.17

hint() {
    cat >&2 <<'HINT'
  Debian/Ubuntu: sudo apt-get install nodejs npm
  Fedora/RHEL:   sudo dnf install nodejs npm
  macOS:         brew install node
  (or any Node.js >= 18.20 from https://nodejs.org/ on PATH)
HINT
}

if ! command -v node >/dev/null 2>&1; then
    echo "tools.sh: Node.js is not installed; the API lint and contract tests need Node.js >= $need_major.$need_minor and npm." >&2
    hint
    exit 1
fi
ver=$(node -p 'process.versions.node' 2>/dev/null || echo 0.0.0)
major=${ver%%.*}; rest=${ver#*.}; minor=${rest%%.*}
case $major$minor in *[!0-9]*|'') major=0 minor=0 ;; esac
if [ "$major" -lt "$need_major" ] || { [ "$major" -eq "$need_major" ] && [ "$minor" -lt "$need_minor" ]; }; then
    echo "tools.sh: Node.js $ver is too old; the API lint and contract tests need Node.js >= $need_major.$need_minor." >&2
    hint
    exit 1
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "tools.sh: npm is not installed (Node.js $ver is)." >&2
    hint
    exit 1
fi

# The stamp records which package files the installed tree came from.
stamp="$tools/node_modules/.carhelp-tools-stamp"
want=$(cat "$tools/package.json" "$tools/package-lock.json" 2>/dev/null | cksum)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
   [ -x "$tools/node_modules/.bin/redocly" ] && [ -x "$tools/node_modules/.bin/prism" ]; then
    exit 0
fi

echo "tools.sh: installing the pinned Redocly CLI and Prism into tools/node_modules (npm)..." >&2
cd "$tools"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
if [ -f package-lock.json ] && npm ci --no-audit --no-fund --loglevel=error; then
    :
else
    echo "tools.sh: npm ci failed or no lock file; trying npm install" >&2
    npm install --no-audit --no-fund --loglevel=error
fi
for b in redocly prism; do
    if [ ! -x "node_modules/.bin/$b" ]; then
        echo "tools.sh: npm finished but tools/node_modules/.bin/$b is missing" >&2
        exit 1
    fi
done
# Recompute: npm install may have rewritten the lock file.
cat package.json package-lock.json 2>/dev/null | cksum > "$stamp"
echo "tools.sh: redocly $(REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true node_modules/.bin/redocly --version 2>/dev/null), prism $(node_modules/.bin/prism --version 2>/dev/null) ready" >&2
