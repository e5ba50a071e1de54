#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# model.py ADDR PORT: the model API of the development corpus's agent. The agent (agent.js)
# keeps one connection open and sends each tool call and its output; the model answers every
# line after a short think (100 ms), as a model's API would answer a turn.
import socket, sys, threading, time

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)


def one(c):
    c.settimeout(900)
    f = c.makefile("rb")
    try:
        for line in f:
            time.sleep(0.1)
            c.sendall(b"ok %d\n" % len(line))
    except OSError:
        pass
    c.close()


while True:
    c, _ = s.accept()
    threading.Thread(target=one, args=(c,), daemon=True).start()
