#!/usr/bin/env bash
# Print the path of a Python >= 3.12: first on PATH, then in pyenv's versions folder.
set -u
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
for name in python3.14 python3.13 python3.12 python3 python; do
  if command -v "$name" >/dev/null 2>&1 && ok "$(command -v "$name")"; then
    command -v "$name"; exit 0
  fi
done
root="${PYENV_ROOT:-$HOME/.pyenv}"
for candidate in $(ls -d "$root"/versions/3.* 2>/dev/null | sort -V -r); do
  if [ -x "$candidate/bin/python" ] && ok "$candidate/bin/python"; then
    echo "$candidate/bin/python"; exit 0
  fi
done
echo "linkscope needs Python >= 3.12 (the embedded graph engine requires it); none found on PATH or in $root/versions. Install one (e.g. 'pyenv install 3.12') and re-run." >&2
exit 1
