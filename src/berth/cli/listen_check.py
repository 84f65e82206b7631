"""Before ``berth serve`` creates anything: is the listen address free, and if not, who holds it?

Binding is tried the way uvicorn binds (``SO_REUSEADDR``), so an address in ``TIME_WAIT`` does
not count as taken. The holder is found on Linux through ``/proc/net/tcp[6]`` (the listening
socket's inode) and ``/proc/<pid>/fd`` (the process that has it open); where that is not
readable the message simply leaves the holder out.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

_LISTEN_STATE = "0A"


def address_in_use(host: str, port: int) -> bool:
    """True when ``host:port`` cannot be bound because something else listens there."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return False  # uvicorn will report the unresolvable host itself
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def _listening_inodes(port: int, proc: Path) -> set[str]:
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 9 and parts[3] == _LISTEN_STATE and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    return inodes


def holder_of(port: int, proc: Path = Path("/proc")) -> str | None:
    """``"<command line> (pid N)"`` of a process listening on ``port``, when it can be seen."""
    inodes = _listening_inodes(port, proc)
    if not inodes:
        return None
    targets = {f"socket:[{inode}]" for inode in inodes}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in targets:
                    command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").strip()
                    return f"{command.decode(errors='replace') or '?'} (pid {entry.name})"
            except OSError:
                continue
    return None


def in_use_message(host: str, port: int) -> str:
    """What ``berth serve`` says when its address is taken, before it creates anything."""
    holder = holder_of(port)
    held = f" by {holder}" if holder else ""
    suggestion = f"{host}:{port + 1 if port < 65535 else 5001}"
    return (
        f"berth: {host}:{port} is already in use{held}.\n"
        f"Stop that process, or listen elsewhere: berth serve --listen {suggestion} "
        f"(or BERTH_LISTEN={suggestion}). Nothing was created."
    )
