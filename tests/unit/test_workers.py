"""berth.workers.bind: a listening socket per worker on one port (SO_REUSEPORT)."""

from __future__ import annotations

import errno
import os
import socket

import pytest

from berth.workers import bind


def test_each_worker_gets_a_listening_socket_of_its_own_on_one_port() -> None:
    sockets = bind("127.0.0.1", 0, 3)  # port 0: the others take the port the first was given
    try:
        assert len(sockets) == 3
        assert len({sock.fileno() for sock in sockets}) == 3
        assert len({sock.getsockname() for sock in sockets}) == 1
        assert all(sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for sock in sockets)
        assert all(sock.get_inheritable() for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()


def test_one_process_binds_one_socket_without_sharing_its_port() -> None:
    (sock,) = bind("127.0.0.1", 0)
    with sock:
        assert not sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
        with socket.socket() as other:  # the port is not shareable
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            with pytest.raises(OSError, match="in use"):
                other.bind(sock.getsockname())


def test_an_ipv6_address_listens_on_ipv6_only() -> None:
    sockets = bind("::1", 0, 2)
    try:
        assert all(sock.family == socket.AF_INET6 for sock in sockets)
        assert all(sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()


def test_a_taken_port_fails_the_bind() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken, pytest.raises(OSError, match="in use"):
        bind("127.0.0.1", taken.getsockname()[1], 2)


def test_a_second_group_on_the_same_address_is_refused_until_the_first_closes() -> None:
    """SO_REUSEPORT would let a second berth started at the same instant share the port (and
    split the connections); the first group's claim on the address refuses it."""
    first = bind("127.0.0.1", 0, 2)
    port = first[0].getsockname()[1]
    try:
        with pytest.raises(OSError, match="Address already in use by another berth") as refused:
            bind("127.0.0.1", port, 2)
        assert refused.value.errno == errno.EADDRINUSE
    finally:
        for sock in first:
            sock.close()
    again = bind("127.0.0.1", port, 2)  # the claim went with the first group's socket
    for sock in again:
        sock.close()


def test_the_claim_lives_in_a_process_that_forked_with_the_sockets() -> None:
    """The supervisor keeps the claim while workers close the sockets that are not theirs."""
    first = bind("127.0.0.1", 0, 2)
    port = first[0].getsockname()[1]
    child = os.fork()
    if child == 0:  # a worker: closes the other worker's socket (the first, with the claim)
        first[0].close()
        os._exit(0)
    os.waitpid(child, 0)
    try:
        with pytest.raises(OSError, match="already in use"):
            bind("127.0.0.1", port, 2)
    finally:
        for sock in first:
            sock.close()
