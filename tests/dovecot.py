"""A real Dovecot IMAP server on loopback for the tests: own config, own ports, own users.

Started once per session in its own process group from a generated config (passwd-file users, Maildir,
plaintext login on 127.0.0.1 only, implicit TLS with a self-signed certificate). Each test gets a fresh
user, so tests never see each other's mail. Stopped by kicking its clients, then ending its group.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

CONFIG = """\
base_dir = {root}/run
instance_name = triage-test-{port}
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
mail_location = maildir:{root}/mail/%u
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 1
{oauth2_passdb}passdb {{
  driver = passwd-file{passwd_mechanisms}
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Junk {{
    special_use = \\Junk
    auto = create
  }}
}}
"""


# With `oauth2_url`: XOAUTH2 and OAUTHBEARER are checked by the oauth2 passdb, which asks the token
# introspection server of tests/token_server.py about every login (no auth cache: each login is asked anew);
# the password still works for PLAIN and LOGIN, so tests can put mail in as before. A refused token is
# answered at once (no failure delay, no growing penalty), so tests of refusals stay quick.
OAUTH2_PASSDB = """\
auth_cache_size = 0
auth_failure_delay = 0
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf.ext
}}
"""

OAUTH2_CONF = """\
introspection_mode = post
introspection_url = {url}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 10000
"""

USERS = 500
PASSWORD = "secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class ImapUser:
    name: str
    password: str
    server: Dovecot

    def client(self) -> IMAPClient:
        """A plain client on the loopback port, for putting mail in and looking at flags."""
        c = IMAPClient("127.0.0.1", port=self.server.port, ssl=False, timeout=30)
        c.login(self.name, self.password)
        return c


class Dovecot:
    def __init__(self, root: Path, *, oauth2_url: str | None = None,
                 oauth2_mechanisms: tuple[str, ...] = ("xoauth2", "oauthbearer")) -> None:
        self.root = root
        self.port = free_port()
        self.tls_port = free_port()
        self.ca_file = root / "cert.pem"
        self._names = itertools.count(1)
        if os.geteuid() == 0:
            self.uid, self.gid = pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("nobody").pw_gid
            login_user, internal_user = "dovenull", "dovecot"
        else:  # an unprivileged developer: everything runs as them
            self.uid, self.gid = os.getuid(), os.getgid()
            login_user = internal_user = pwd.getpwuid(self.uid).pw_name
        (root / "mail").mkdir()
        (root / "state").mkdir()
        os.chown(root / "mail", self.uid, self.gid)
        # Every user exists before the server starts: Dovecot re-reads the passwd-file only when its mtime
        # (whole seconds) changes, so a user added in the same second as a login would be unknown.
        (root / "passwd").write_text("".join(
            f"user{n}:{{PLAIN}}{PASSWORD}:{self.uid}:{self.gid}::{root}/mail/user{n}::\n" for n in range(1, USERS + 1)))
        _self_signed(root)
        mechanisms, oauth2_passdb, passwd_mechanisms = "plain login", "", ""
        if oauth2_url is not None:
            (root / "oauth2.conf.ext").write_text(OAUTH2_CONF.format(url=oauth2_url))
            mechanisms = " ".join(("plain", "login", *oauth2_mechanisms))
            oauth2_passdb = OAUTH2_PASSDB.format(root=root)
            passwd_mechanisms = "\n  mechanisms = plain login"
        (root / "dovecot.conf").write_text(CONFIG.format(
            root=root, port=self.port, tls_port=self.tls_port, login_user=login_user, internal_user=internal_user,
            mechanisms=mechanisms, oauth2_passdb=oauth2_passdb, passwd_mechanisms=passwd_mechanisms))
        self.process = subprocess.Popen(
            ["dovecot", "-c", str(root / "dovecot.conf"), "-F"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"dovecot exited: {error}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("dovecot did not answer within 15 s")

    def add_user(self) -> ImapUser:
        """A user no other test has touched."""
        n = next(self._names)
        if n > USERS:
            raise RuntimeError(f"more than {USERS} IMAP users asked for; raise tests.dovecot.USERS")
        return ImapUser(f"user{n}", PASSWORD, self)

    def stop(self) -> None:
        subprocess.run(["doveadm", "-c", str(self.root / "dovecot.conf"), "kick", "*"],
                       capture_output=True, timeout=10, check=False)
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)


def _self_signed(root: Path) -> None:
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem")],
        check=True, capture_output=True,
    )


def start(*, oauth2_url: str | None = None, oauth2_mechanisms: tuple[str, ...] = ("xoauth2", "oauthbearer"),
          ) -> Iterator[Dovecot]:
    if shutil.which("dovecot") is None:
        raise RuntimeError("dovecot is not installed; `make test` installs it (apt-get install dovecot-imapd)")
    # Not under pytest's tmp dir: that is private to root, and Dovecot's users must reach this folder.
    root = Path(tempfile.mkdtemp(prefix="triage-dovecot-"))
    os.chmod(root, 0o755)
    server = Dovecot(root, oauth2_url=oauth2_url, oauth2_mechanisms=oauth2_mechanisms)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
