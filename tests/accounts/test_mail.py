"""The mail module: rendering, and the memory, console and SMTP backends."""
import pytest

from marketplace.mail import MailError, send_mail

from .conftest import free_port


def reset_request(client, email="ann@example.coop"):
    response = client.post("/password/forgot", data={"email": email})
    assert response.status_code == 302
    return response


def test_memory_backend_keeps_text_and_html_parts(ann, outbox):
    message = send_mail(["ann@example.coop", "bob@example.coop"], "Reset your password", "password_reset",
                        user=ann, link="http://marketplace.test/x?a=1&b=2", max_age_minutes=60)
    assert outbox == [message]
    assert message["To"] == "ann@example.coop, bob@example.coop"
    assert message["Message-ID"] and message["Date"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    # Plain text is not HTML-escaped; the HTML part is.
    assert "http://marketplace.test/x?a=1&b=2" in text and "Hello Ann Example" in text
    assert 'href="http://marketplace.test/x?a=1&amp;b=2"' in html and "<title>Reset your password</title>" in html


def test_a_template_without_html_sends_plain_text_only(app, outbox):
    """Outside any request too (the command line, a queue): links are absolute, the site name
    is given, and a subject made from user text cannot break the headers."""
    from jinja2 import ChoiceLoader, DictLoader

    original = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader([DictLoader({
        "mail/note.txt": "Hi {{ who }} & co. See {{ url_for('accounts.login', _external=True) }} -- {{ site_name }}",
    }), original])
    try:
        message = send_mail("ann@example.coop", "A note\r\nBcc: evil@example.com", "note", who="<Ann>")
    finally:
        app.jinja_env.loader = original
    assert outbox == [message]
    assert not message.is_multipart()
    assert message.get_content().strip() == (
        "Hi <Ann> & co. See http://marketplace.test/login -- CoTech Marketplace")
    assert message["Subject"] == "A note Bcc: evil@example.com" and message["Bcc"] is None


def test_console_backend_prints_the_message(ann, config, capsys, outbox):
    config(MAIL_BACKEND="console")
    send_mail(ann.email, "Reset your password", "password_reset", user=ann, link="http://x.test/l",
              max_age_minutes=60)
    printed = capsys.readouterr().out
    assert "To: ann@example.coop" in printed and "Subject: Reset your password" in printed
    assert outbox == []


def test_the_console_prints_a_message_as_its_reader_sees_it(ann, config, capsys, outbox):
    """Decoded, not quoted-printable: a long link stays on one line, an "=" stays itself."""
    config(MAIL_BACKEND="console")
    link = "http://127.0.0.1:8123/password/reset/" + "a1b2c3d4e5." * 12 + "?next=%2Fjobs&x=y"
    send_mail(ann.email, "Reset your password", "password_reset", user=ann, link=link, max_age_minutes=60)
    printed = capsys.readouterr().out
    assert f"\n{link}\n" in printed
    assert "Hello Ann Example," in printed and "=\n" not in printed and "=3D" not in printed
    assert "Content-Transfer-Encoding" not in printed and "<html" not in printed


def test_the_site_url_follows_the_port_unless_it_is_given(monkeypatch, tmp_path):
    from marketplace import create_app

    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SITE_URL", raising=False)
    monkeypatch.setenv("PORT", "8123")
    assert create_app({"DEBUG": True}).config["SITE_URL"] == "http://127.0.0.1:8123"
    monkeypatch.delenv("PORT")
    assert create_app({"DEBUG": True}).config["SITE_URL"] == "http://127.0.0.1:5000"
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("SITE_URL", "https://market.example.coop")
    assert create_app({"DEBUG": True}).config["SITE_URL"] == "https://market.example.coop"


def test_unknown_backend_is_an_error(ann, config):
    config(MAIL_BACKEND="pigeon")
    with pytest.raises(MailError, match="Unknown MAIL_BACKEND 'pigeon'"):
        send_mail(ann.email, "Hi", "password_reset", user=ann, link="x", max_age_minutes=1)


def test_smtp_backend_with_starttls_and_login(client, ann, config, smtp_server, monkeypatch):
    controller, handler, (username, password), cert = smtp_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the test server's certificate
    config(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=True,
           MAIL_USERNAME=username, MAIL_PASSWORD=password, MAIL_DEFAULT_SENDER="noreply@marketplace.test")
    reset_request(client)
    [envelope] = handler.envelopes
    assert envelope.mail_from == "noreply@marketplace.test"
    assert envelope.rcpt_tos == ["ann@example.coop"]
    assert handler.logins == [("PLAIN", True)] or handler.logins == [("LOGIN", True)]
    received = envelope.content.decode()
    assert "Subject: Reset your password" in received
    assert "http://marketplace.test/password/reset/" in received
    assert "multipart/alternative" in received


def test_smtp_backend_plain(client, ann, config):
    from aiosmtpd.controller import Controller

    from .conftest import Recorder

    handler = Recorder()
    server = Controller(handler, hostname="127.0.0.1", port=free_port())
    server.start()
    try:
        config(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_USE_TLS=False,
               MAIL_USERNAME=None)
        reset_request(client)
    finally:
        server.stop()
    [envelope] = handler.envelopes
    assert envelope.rcpt_tos == ["ann@example.coop"]


def test_smtp_refusing_the_login_is_a_mail_error(ann, config, smtp_server, monkeypatch):
    controller, handler, (username, _), cert = smtp_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    config(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=True,
           MAIL_USERNAME=username, MAIL_PASSWORD="wrong")
    with pytest.raises(MailError, match="Could not send mail.*535"):
        send_mail(ann.email, "Hi", "password_reset", user=ann, link="x", max_age_minutes=1)
    assert handler.envelopes == []


def test_unreachable_mail_server_still_gives_the_usual_answer(client, ann, config, caplog):
    config(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_USE_TLS=False)
    reset_request(client)
    assert "If an account exists for" in client.get("/login").get_data(as_text=True)
    assert "Password reset mail to user" in caplog.text
