"""A real PostgreSQL 15 server (Debian's `postgresql` package) for the SpacesApp tests and benchmarks.

`initdb` makes a cluster in a temporary folder; the server listens on a free port of 127.0.0.1 (password
authentication, scram-sha-256) and on a unix socket in that folder. When we run as root, every PostgreSQL program
runs as the unprivileged `postgres` user (the server refuses root), which owns the folder.
"""
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

BIN = "/usr/lib/postgresql/15/bin"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    def __init__(self):
        if not os.path.exists(os.path.join(BIN, "initdb")):
            raise RuntimeError("PostgreSQL 15 is not installed (apt-get install postgresql; `make deps` does it)")
        self.directory = tempfile.mkdtemp(prefix="spaces-pg-")
        self.data = os.path.join(self.directory, "data")
        self.port = free_port()
        self.password = "pw-" + uuid.uuid4().hex[:12]
        self.as_owner = []
        password_file = os.path.join(self.directory, "pwfile")
        with open(password_file, "w") as handle:
            handle.write(self.password)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            for path in (self.directory, password_file):
                os.chown(path, owner.pw_uid, owner.pw_gid)
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", self.data, "-U", "postgres", "-E", "UTF8", "--auth-local=trust",
                  "--auth-host=scram-sha-256", "--pwfile=" + password_file, "--no-sync")

    def _run(self, program, *args):
        # Output to a file: the server pg_ctl starts inherits it and would hold a pipe open forever.
        with open(os.path.join(self.directory, "command.log"), "w") as log:
            result = subprocess.run(self.as_owner + [os.path.join(BIN, program), *args], stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=60)
        if result.returncode != 0:
            with open(os.path.join(self.directory, "command.log")) as log:
                raise RuntimeError(f"{program} failed ({result.returncode}): {log.read()}")

    def start(self, timeout=30):
        """Starts the server (again, on the same port) and waits until it accepts connections."""
        options = (f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c max_connections=200")
        self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.directory, "server.log"), "-o", options,
                  "-w", "-t", str(timeout), "start")
        deadline = time.monotonic() + timeout
        while True:
            ready = subprocess.run([os.path.join(BIN, "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if ready.returncode == 0:
                return self
            if time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL did not become ready")
            time.sleep(0.05)

    def stop(self):
        """Stops at once (`-m immediate`: connections are cut, as in a crash)."""
        self._run("pg_ctl", "-D", self.data, "stop", "-m", "immediate", "-w", "-t", "30")

    def destroy(self):
        try:
            self.stop()
        except Exception:  # noqa: BLE001 - already stopped
            pass
        shutil.rmtree(self.directory, ignore_errors=True)

    def url(self, database="postgres"):
        return f"postgres://postgres:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self):
        """A new empty database; returns its URL."""
        name = "e2e_" + uuid.uuid4().hex[:12]
        subprocess.run([os.path.join(BIN, "psql"), "-h", self.directory,
                        "-p", str(self.port), "-U", "postgres", "-d", "postgres", "-qc", f"CREATE DATABASE {name}"],
                       check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, PGPASSWORD=self.password))
        return self.url(name)

    def backend_cpu_seconds(self):
        """CPU seconds (user + system) used so far by every process of this server."""
        total = 0
        ticks = os.sysconf("SC_CLK_TCK")
        pid_file = os.path.join(self.data, "postmaster.pid")
        with open(pid_file) as handle:
            postmaster = int(handle.readline())
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(entry), int(fields[1])
            if pid == postmaster or ppid == postmaster:
                total += (int(fields[11]) + int(fields[12])) / ticks
        return total

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.destroy()
