"""Sending e-mail: ``send_mail(to, subject, template, **context)``.

The body is rendered from ``templates/mail/<template>.txt`` (and ``<template>.html`` as an
alternative part when it exists). ``MAIL_BACKEND`` chooses where the message goes:

- ``console``: written to standard output (development; gunicorn puts it in the log);
- ``smtp``: sent with ``MAIL_SERVER``/``MAIL_PORT``, STARTTLS when ``MAIL_USE_TLS``, and a
  login when ``MAIL_USERNAME`` is set;
- ``memory``: kept in ``app.extensions["mail_outbox"]`` (tests read it).

Links in messages must be absolute: build them with ``url_for(..., _external=True)``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING
import smtplib
import ssl
import sys
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from jinja2 import TemplateNotFound

from .core.time import shown_in

if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Sequence
    from flask import Flask

OUTBOX = "mail_outbox"


class MailError(Exception):
    """The message could not be handed over to the mail server."""


def send_mail(to: str | Sequence[str], subject: str, template: str, headers: dict[str, str] | None=None,
              zone: str | None=None, **context: Any) -> EmailMessage[Any, Any]:
    """Render and send one message to ``to`` (an address or a list of them), with any extra
    ``headers`` (such as List-Unsubscribe); returns it. Dates in it are in ``zone`` (the
    recipient user's time zone), or the site's (``TIMEZONE``) for a message to no user of ours."""
    message = build_message(to, subject, template, headers=headers, zone=zone, **context)
    backend = current_app.config.get("MAIL_BACKEND", "console")
    try:
        deliver = BACKENDS[backend]
    except KeyError:
        raise MailError(f"Unknown MAIL_BACKEND {backend!r}: use one of {', '.join(BACKENDS)}.") from None
    deliver(message)
    return message


def build_message(to: str | Sequence[str], subject: str, template: str, headers: dict[str, str] | None=None,
                  zone: str | None=None, **context: Any) -> EmailMessage[Any, Any]:
    config = current_app.config
    recipients = [to] if isinstance(to, str) else list(to)
    sender = config["MAIL_DEFAULT_SENDER"]
    message = EmailMessage()
    # Headers cannot hold line breaks; a subject made from user text may.
    subject = " ".join(str(subject).split())
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    for name, value in (headers or {}).items():
        message[name] = value
    # Rendered without the request's context processors: a message is for its recipient, not
    # for whoever's request sends it (and may be sent after a commit, when no query may run).
    context = {"site_name": config["SITE_NAME"], "subject": subject, **context}
    env = current_app.jinja_env
    # Never the zone of whoever's request sends it.
    with shown_in(zone):
        message.set_content(env.get_template(f"mail/{template}.txt").render(context))
        try:
            html = env.get_template(f"mail/{template}.html")
        except TemplateNotFound:
            html = None
        if html is not None:
            message.add_alternative(html.render(context), subtype="html")
    return message


CONSOLE_HEADERS = ("From", "To", "Date", "Subject")


def _console(message: EmailMessage) -> None:
    """The message as its reader would see it: the plain-text body decoded (its wire form,
    quoted-printable, breaks long links across lines), the HTML alternative only named."""
    headers = "".join(f"{name}: {message[name]}\n" for name in CONSOLE_HEADERS)
    plain = message.get_body(("plain",))
    text = plain.get_content().rstrip("\n") if plain is not None else ""
    html = "\n[and an HTML version of the same]" if message.get_body(("html",)) is not None else ""
    sys.stdout.write(f"{'-' * 30} mail {'-' * 30}\n{headers}\n{text}\n{html}{'-' * 66}\n")
    sys.stdout.flush()


def _memory(message: EmailMessage) -> None:
    current_app.extensions.setdefault(OUTBOX, []).append(message)


def _smtp(message: EmailMessage) -> None:
    config = current_app.config
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"],
                          timeout=config.get("MAIL_TIMEOUT", 10)) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(f"Could not send mail through {config['MAIL_SERVER']}:{config['MAIL_PORT']}: {error}") from error


BACKENDS = {"console": _console, "smtp": _smtp, "memory": _memory}


def outbox(app: Flask | None=None) -> list[EmailMessage]:
    """The messages kept by the ``memory`` backend (a live list: tests may clear it)."""
    return (app or current_app).extensions.setdefault(OUTBOX, [])
