#!/usr/bin/env python3
"""TCP forwarder from the root network namespace's loopback into another network namespace.

    netns-forward.py LISTEN_PORT NETNS_FILE [TARGET_HOST:]TARGET_PORT [LABEL]

Listens on 127.0.0.1:LISTEN_PORT where it starts, then enters NETNS_FILE (setns) so that every
connection it opens goes to TARGET_HOST:TARGET_PORT (default host 127.0.0.1) inside that
namespace. The ingress forwarder targets the Traefik Service's cluster IP from the node's
namespace, where kube-proxy's rules send it to the Traefik pod. The local cluster's real
node uses it so the API server, which lives in the control plane's own namespace, is still
https://127.0.0.1:<port> for tests and tools (scripts/local-cluster). LABEL is ignored; it lets
the cluster script recognise its own process by its command line.
"""
import asyncio
import ctypes
import os
import socket
import sys

CLONE_NEWNET = 0x40000000


def enter_netns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except OSError:
            pass


async def main(listen_port, netns, target_host, target_port):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", listen_port))
    listener.listen(128)
    # The listener stays in this namespace; sockets made from now on are in the target one.
    enter_netns(netns)

    async def handle(client_reader, client_writer):
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))

    server = await asyncio.start_server(handle, sock=listener)
    print(f"forwarding 127.0.0.1:{listen_port} -> {netns} {target_host}:{target_port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    host, _, port = sys.argv[3].rpartition(":")
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], host or "127.0.0.1", int(port)))
