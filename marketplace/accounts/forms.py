"""Forms for registering, signing in, resetting and changing passwords, and account settings."""
from __future__ import annotations

from typing import TYPE_CHECKING
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import AnyOf, DataRequired, Email, EqualTo, Length

from ..core.forms import NotBlank, strip_filter
from .services import EMAIL_MAX, NAME_MAX, PASSWORD_MAX, PASSWORD_MIN, TIME_ZONES, normalise_email

if TYPE_CHECKING:
    from typing import Any

PASSWORD_HINT = f"At least {PASSWORD_MIN} characters. A few unrelated words make a strong password."


def _new_password(label: str = "Password") -> Any:
    return PasswordField(label, validators=[
        DataRequired("Choose a password."),
        Length(min=PASSWORD_MIN, max=PASSWORD_MAX,
               message=f"The password must be between {PASSWORD_MIN} and {PASSWORD_MAX} characters long."),
    ], render_kw={"autocomplete": "new-password"})


def _confirmation(of: str) -> Any:
    return PasswordField("Repeat the password", validators=[
        DataRequired("Type the password again."), EqualTo(of, message="The two passwords are not the same."),
    ], render_kw={"autocomplete": "new-password"})


def _email() -> Any:
    return EmailField("Email address", filters=[normalise_email], validators=[
        DataRequired("Give your email address."), Length(max=EMAIL_MAX),
        Email("This is not a valid email address."),
    ], render_kw={"autocomplete": "email"})


def _name() -> Any:
    return StringField("Your name", filters=[strip_filter], validators=[NotBlank(), Length(max=NAME_MAX)],
                       render_kw={"autocomplete": "name"})


class RegisterForm(FlaskForm):
    name = _name()
    email = _email()
    password = _new_password()
    confirm = _confirmation("password")
    submit = SubmitField("Create account")


class LoginForm(FlaskForm):
    # Not checked for shape: a malformed address fails exactly like a wrong one.
    email = EmailField("Email address", filters=[normalise_email],
                       validators=[DataRequired("Give your email address."), Length(max=EMAIL_MAX)],
                       render_kw={"autocomplete": "email"})
    password = PasswordField("Password", validators=[DataRequired("Give your password."),
                                                     Length(max=PASSWORD_MAX)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField("Keep me signed in on this device (not on a shared computer)")
    submit = SubmitField("Sign in")


class ForgotPasswordForm(FlaskForm):
    email = _email()
    submit = SubmitField("Send me a link")


class ResetPasswordForm(FlaskForm):
    password = _new_password("New password")
    confirm = _confirmation("password")
    submit = SubmitField("Set password and sign in")


class NameForm(FlaskForm):
    name = _name()
    submit = SubmitField("Save name")


class TimeZoneForm(FlaskForm):
    time_zone = SelectField("Time zone", choices=[(z, z.replace("_", " ")) for z in TIME_ZONES],
                            validate_choice=False,
                            validators=[AnyOf(TIME_ZONES, message="Choose a time zone from the list.")])
    submit = SubmitField("Save time zone")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired("Give your current password.")],
                                     render_kw={"autocomplete": "current-password"})
    new_password = _new_password("New password")
    confirm = _confirmation("new_password")
    submit = SubmitField("Change password")


class ApiTokenForm(FlaskForm):
    label = StringField("Name this token (optional)", filters=[strip_filter],
                        validators=[Length(max=80)])
    submit = SubmitField("Make an API token")
