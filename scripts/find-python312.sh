#!/usr/bin/env bash
# Print the path of a working Python 3.12 (the Lambda runtime's version), or say how to get one.
# pyenv shims may refuse to run python3.12 when 3.12 is installed but not the active version,
# so pyenv's install folders are tried directly too.
set -u
candidates=("${PYTHON312:-}" python3.12)
if command -v pyenv >/dev/null 2>&1; then
  for found in "$(pyenv root)"/versions/3.12*/bin/python3.12; do candidates+=("$found"); done
fi
candidates+=(/usr/local/bin/python3.12 /usr/bin/python3.12)
for candidate in "${candidates[@]}"; do
  [ -n "$candidate" ] || continue
  if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; then
    command -v "$candidate" 2>/dev/null || echo "$candidate"
    exit 0
  fi
done
cat >&2 <<'MSG'
Kestrel needs Python 3.12 (the Lambda runtime is python3.12) and none was found.
Install it, then run the command again:
  - pyenv:          pyenv install 3.12
  - Debian/Ubuntu:  apt-get install python3.12 python3.12-venv
  - or point PYTHON312 at a python3.12 binary.
MSG
exit 1
