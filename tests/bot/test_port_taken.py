"""The workers' parent, the start and `--check` ask whether a port is taken (port_taken) and whether HOST can be
listened on (host_problem) with real sockets."""

from __future__ import annotations

import errno
import socket

import pytest

from bot.process import host_problem, port_taken
from tests.stack import free_port


def test_a_listener_is_found_even_one_that_lets_others_share_its_port() -> None:
    for share in (False, True):
        with socket.socket() as listener:
            if share:  # another bot's worker: SO_REUSEPORT would let our workers join it silently
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            port = listener.getsockname()[1]

            assert port_taken("127.0.0.1", port)
            assert port_taken("0.0.0.0", port)  # everywhere includes loopback

        assert not port_taken("127.0.0.1", port)  # closed: free again


def test_a_free_port_and_port_0_are_not_taken() -> None:
    assert not port_taken("127.0.0.1", free_port())
    assert not port_taken("127.0.0.1", 0)


def test_on_a_kernel_without_ipv6_the_ipv6_address_of_a_name_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    real_socket, real_getaddrinfo = socket.socket, socket.getaddrinfo

    def no_ipv6(family: int = socket.AF_INET, *args: object, **kwargs: object) -> socket.socket:
        if family == socket.AF_INET6:  # a kernel booted with ipv6.disable=1
            raise OSError(errno.EAFNOSUPPORT, "Address family not supported by protocol")
        return real_socket(family, *args, **kwargs)

    def localhost_both(host: str | None, port: int, *args: object, **kwargs: object) -> list:
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", port, 0, 0)),
            *real_getaddrinfo("127.0.0.1", port, *args, **kwargs),
        ]

    monkeypatch.setattr(socket, "socket", no_ipv6)
    monkeypatch.setattr(socket, "getaddrinfo", localhost_both)
    with real_socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        assert port_taken("localhost", port)
    assert not port_taken("localhost", port)


def test_a_host_name_with_an_address_not_of_this_machine_is_refused_naming_that_address(monkeypatch) -> None:
    real = socket.getaddrinfo

    def two_addresses(host, port, *args, **kwargs):  # a name whose DNS also gives an address that is not ours
        if host == "bot.internal.test":
            (mine,) = real("127.0.0.1", port, *args, **kwargs)
            (other,) = real("192.0.2.7", port, *args, **kwargs)  # TEST-NET-1: nobody's
            return [mine, other]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", two_addresses)

    said = host_problem("bot.internal.test")

    assert said is not None and said.startswith("HOST bot.internal.test (its address 192.0.2.7) is not an address")
    assert host_problem("127.0.0.1") is None and host_problem("999.1.1.1").startswith("HOST 999.1.1.1 names no")
