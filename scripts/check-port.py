"""check-port.py PORT [HOST]: exit 1 with a message if the API could not listen there.

`make demo` runs this before it installs, generates and analyses (minutes), so a busy port
shows up at once instead of when the server finally starts.
"""

from __future__ import annotations

import socket
import sys


def port_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now (SO_REUSEADDR as uvicorn sets it, so
    connections of an earlier server still closing do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def main(argv: list[str]) -> int:
    port = int(argv[1])
    host = argv[2] if len(argv) > 2 else "127.0.0.1"
    if port_free(host, port):
        return 0
    sys.stderr.write(
        f"make: port {port} on {host} is in use (another linkscope serve?): stop it, or pick "
        f"another port, e.g. make demo PORT={port + 1}\n"
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
