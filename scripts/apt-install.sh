#!/usr/bin/env bash
# apt-install.sh WHAT PACKAGE...: install Debian packages `make test` needs, saying so first;
# where that cannot work (no apt, not root) stop with what to do instead, rather than fail
# later with apt's or the tests' own messages.
set -u
what=$1
shift
if ! command -v apt-get >/dev/null 2>&1; then
  echo "make: $* (for $what) not installed, and apt-get is not available here:" >&2
  echo "      install them with this system's package manager, then run make again" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "make: $* (for $what) not installed, and installing needs root:" >&2
  echo "      run 'sudo apt-get install $*', then run make again" >&2
  exit 1
fi
echo "installing Debian's $* for $what (apt-get install)"
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
