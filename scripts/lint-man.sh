#!/bin/sh
# lint-man.sh: `mandoc -T lint -W warning` on the man pages (`make lint-man`, part of `make check`).
# Exit 0 when clean. mandoc's note that the system's mandoc.db is outdated (printed when a page
# cross-references another with .Xr) says nothing about our pages and is filtered out.
set -u
cd "$(dirname "$0")/.." || exit 1
pages=${*:-man/carhelp.1 man/carhelp-server.1}
if ! command -v mandoc >/dev/null 2>&1; then
    echo "lint-man.sh: mandoc is not installed (run \`make deps\`)" >&2
    exit 1
fi
# shellcheck disable=SC2086
out=$(mandoc -T lint -W warning $pages 2>&1)
rc=$?
problems=$(printf '%s\n' "$out" | grep -v -e 'outdated mandoc.db' -e '^$')
if [ -n "$problems" ]; then
    printf '%s\n' "$problems" >&2
    echo "lint-man.sh: mandoc found problems in: $pages" >&2
    exit 1
fi
# mandoc exits non-zero for the mandoc.db note alone; anything else has been printed above.
[ $rc -eq 0 ] || [ -n "$out" ] || exit 1
echo "lint-man: $pages clean"
