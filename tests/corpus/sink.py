#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# sink.py: the attacker's side of the attack corpus, run in a network namespace of this machine
# (testnet.sh). It plays the hosts the techniques reach: reverse-shell catchers that send one
# command and record whether a shell answered, a TLS catcher, an HTTP upload sink, a DNS server,
# a mining pool, and a client for bind shells. Everything is logged, one line an event, to
# LOG; every wait is bounded. Usage: sink.py ADDR LOG CERTDIR
import http.server, os, socket, socketserver, ssl, sys, threading, time

addr, log_path, certdir = sys.argv[1], sys.argv[2], sys.argv[3]
lock = threading.Lock()


def log(*words):
    with lock, open(log_path, "a") as f:
        f.write("%.6f %s\n" % (time.time(), " ".join(str(w) for w in words)))


def listening(port, backlog=16):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(backlog)
    return s


def shell_session(conn, port, peer):
    """Send one command; a shell answers with the marker. Then, as an operator would, two more
    commands 300 ms apart before hanging up: a relay that runs each command in a short shell
    is then seen more than once (its first shell may end before the monitor reads it)."""
    conn.settimeout(3)
    got = b""
    try:
        conn.sendall(b"id -u; echo CORPUS-SHELL-$((6*7))\n")
        end = time.time() + 3
        while time.time() < end and b"CORPUS-SHELL-42" not in got and len(got) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                break
            got += chunk
        for _ in range(2):
            if b"CORPUS-SHELL-42" not in got:
                break
            time.sleep(0.3)
            conn.sendall(b"id -u\n")
    except (OSError, ssl.SSLError):
        pass
    log("shell", port, peer[0], "answered" if b"CORPUS-SHELL-42" in got else "silent")
    try:
        conn.close()
    except OSError:
        pass


def catcher(port, tls=False):
    s = listening(port)
    ctx = None
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(certdir, "cert.pem"), os.path.join(certdir, "key.pem"))
    while True:
        c, peer = s.accept()
        if ctx:
            try:
                c.settimeout(3)
                c = ctx.wrap_socket(c, server_side=True)
            except (OSError, ssl.SSLError):
                c.close()
                continue
        threading.Thread(target=shell_session, args=(c, port, peer), daemon=True).start()


class Upload(http.server.BaseHTTPRequestHandler):
    """PUT/POST: read the body (Content-Length or chunked), count it, answer 200."""
    def body(self):
        n = 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while n < (1 << 31):
                size = int(self.rfile.readline().split(b";")[0] or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                n += len(self.rfile.read(size))
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length", "0"))
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 20))
                if not chunk:
                    break
                n += len(chunk)
                left -= len(chunk)
        return n

    def do_PUT(self):
        self.connection.settimeout(30)
        try:
            n = self.body()
        except (OSError, ValueError):
            n = -1
        log("upload", self.client_address[0], n)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT

    def do_GET(self):
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def server_bind(self):  # HTTPServer's would look its own name up in DNS
        socketserver.TCPServer.server_bind(self)


def raw_sink(port):
    """Bytes sent on a plain TCP connection, counted until EOF (bounded 60 s)."""
    s = listening(port)

    def one(c, peer):
        c.settimeout(60)
        n = 0
        try:
            while True:
                chunk = c.recv(1 << 20)
                if not chunk:
                    break
                n += len(chunk)
        except OSError:
            pass
        log("raw", port, peer[0], n)
        c.close()

    while True:
        c, peer = s.accept()
        threading.Thread(target=one, args=(c, peer), daemon=True).start()


def pool(port):
    """A mining pool: a job line every 5 s for as long as the miner stays (bounded 10 min)."""
    s = listening(port)

    def one(c, peer):
        log("pool", peer[0])
        try:
            for i in range(120):
                c.sendall(b'{"method":"job","params":["%d"]}\n' % i)
                time.sleep(5)
        except OSError:
            pass
        c.close()

    while True:
        c, peer = s.accept()
        threading.Thread(target=one, args=(c, peer), daemon=True).start()


def dns():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((addr, 53))
    count = 0
    last = time.time()
    while True:
        q, peer = u.recvfrom(2048)
        count += 1
        try:  # any datagram at all: never let one end the server
            i = 12
            while q[i]:
                i += q[i] + 1
            u.sendto(q[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + q[12:i + 5]
                     + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc6\x12\x17\x02", peer)
        except Exception:
            pass
        if time.time() - last > 1:
            log("dns", peer[0], count)
            last = time.time()


def control(port):
    """'bind IP PORT': connect to a bind shell in the container, as its attacker would."""
    s = listening(port)
    while True:
        c, peer = s.accept()
        c.settimeout(5)
        try:
            words = c.recv(256).decode().split()
            c.close()
            if len(words) == 3 and words[0] == "bind":
                time.sleep(0.5)
                t = socket.create_connection((words[1], int(words[2])), timeout=5)
                shell_session(t, "bind:" + words[2], (words[1],))
        except (OSError, ValueError):
            pass


for p in (443, 4444, 4445, 1337):
    threading.Thread(target=catcher, args=(p,), daemon=True).start()
threading.Thread(target=catcher, args=(8443, True), daemon=True).start()
threading.Thread(target=Server((addr, 8080), Upload).serve_forever, daemon=True).start()
threading.Thread(target=raw_sink, args=(9000,), daemon=True).start()
threading.Thread(target=pool, args=(3333,), daemon=True).start()
threading.Thread(target=control, args=(9001,), daemon=True).start()
threading.Thread(target=dns, daemon=True).start()
log("ready", addr)
threading.Event().wait()
