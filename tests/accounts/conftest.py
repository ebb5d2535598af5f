import socket
import subprocess

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import LoginFailure, User
from marketplace.audit.models import AuditEvent
from marketplace.extensions import db
from marketplace.mail import outbox as mail_outbox

from ..factories import PASSWORD, make_user

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def outbox(app):
    """The memory backend's messages, empty at the start of the test."""
    messages = mail_outbox(app)
    messages.clear()
    yield messages
    messages.clear()


@pytest.fixture
def config(app):
    """Change app settings for one test; they are put back afterwards."""
    saved = dict(app.config)

    def change(**values):
        app.config.update(values)

    yield change
    app.config.clear()
    app.config.update(saved)


@pytest.fixture
def ann():
    return make_user("Ann Example", email="ann@example.coop")


def sign_in(client, email="ann@example.coop", password=PASSWORD, **extra):
    return client.post("/login" + extra.pop("query", ""), data={"email": email, "password": password, **extra})


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def users():
    return count(User)


def failures():
    return count(LoginFailure)


def audit_actions(user):
    return [e.action for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.target_type == "user", AuditEvent.target_id == user.id)
        .order_by(AuditEvent.id))]


def signed_in_user_id(client):
    """The id of the user the client's session names (``User.get_id`` is "id:session token")."""
    with client.session_transaction() as session:
        value = session.get("_user_id")
    return value.partition(":")[0] if value else None


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Recorder:
    """An aiosmtpd handler that keeps every envelope it is given."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(tmp_path):
    """A real SMTP server on loopback (aiosmtpd) offering STARTTLS and AUTH.

    Yields (controller, handler, credentials). Its self-signed certificate is made with
    the openssl command; point SSL_CERT_FILE at ``tmp_path / "cert.pem"`` to trust it.
    """
    import ssl

    controller_module = pytest.importorskip("aiosmtpd.controller")
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("the openssl command is needed to make a test certificate")
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    credentials = ("mailer", "s3cret-mail-pass")
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(), auth_data.password.decode()) == credentials
        logins.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)  # False: the server answers 535 itself

    handler = Recorder()
    handler.logins = logins
    controller = controller_module.Controller(
        handler, hostname="127.0.0.1", port=free_port(), tls_context=tls,
        authenticator=authenticator, auth_require_tls=True,
    )
    controller.start()
    try:
        yield controller, handler, credentials, cert
    finally:
        controller.stop()
