"""The back office's forms: each declares its own fields and checks (Flask-WTF, CSRF on)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, Email, Length, Optional, Regexp

from ..cases.models import AssessmentMode, FindingKind
from ..register.programmes import Programme
from ..staff.models import StaffRole

ROLE_LABELS = {
    StaffRole.OFFICER: _l("Officer"),
    StaffRole.ASSESSOR: _l("Assessor"),
    StaffRole.DECISION_MAKER: _l("Decision maker"),
    StaffRole.REGISTRAR: _l("Registrar"),
    StaffRole.AUDITOR: _l("Auditor"),
}


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    code = StringField(
        _l("Code from your authenticator app"),
        validators=[DataRequired(), Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=_l("Six digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
    )


class ActForm(FlaskForm):
    """A status act on an accreditation: suspension, reinstatement, withdrawal."""

    effective = DateField(_l("Takes effect on"), validators=[DataRequired()])
    until = DateField(_l("Suspended until (last day)"), validators=[Optional()])
    items = SelectMultipleField(_l("Scope items (none: the whole accreditation)"), coerce=int)
    reason_en = TextAreaField(_l("Reason (English)"), validators=[Length(max=4000)])
    reason_th = TextAreaField(_l("Reason (Thai)"), validators=[Length(max=4000)])


class RenewalForm(FlaskForm):
    effective = DateField(_l("New cycle starts on"), validators=[DataRequired()])
    valid_until = DateField(_l("New cycle ends on"), validators=[DataRequired()])
    reason_en = TextAreaField(_l("Note (English)"), validators=[Length(max=4000)])
    reason_th = TextAreaField(_l("Note (Thai)"), validators=[Length(max=4000)])


class ScopeUploadForm(FlaskForm):
    file = FileField(_l("Scope file (CSV, UTF-8)"), validators=[FileRequired()])


class ScopeConfirmForm(FlaskForm):
    """The previewed import, carried back unchanged to become a case."""

    content = HiddenField(validators=[DataRequired()])
    digest = HiddenField(validators=[DataRequired()])
    reason_en = TextAreaField(_l("Why (English)"), validators=[Length(max=4000)])
    reason_th = TextAreaField(_l("Why (Thai)"), validators=[Length(max=4000)])


class InitialForm(FlaskForm):
    programme = SelectField(_l("Programme"), choices=[(p.value, p.value) for p in Programme])
    effective = DateField(_l("Cycle starts on"), validators=[DataRequired()])
    valid_until = DateField(_l("Cycle ends on"), validators=[DataRequired()])
    file = FileField(_l("Scope file (CSV, UTF-8)"), validators=[FileRequired()])


class AssessorForm(FlaskForm):
    #: Any account id: the workflow checks that it is an assessor's.
    assessor = SelectField(_l("Assessor"), coerce=int, validate_choice=False)


class AssessmentForm(FlaskForm):
    mode = SelectField(
        _l("How"),
        choices=[
            (AssessmentMode.ON_SITE.value, _l("On site")),
            (AssessmentMode.REMOTE.value, _l("Remote")),
        ],
    )
    held_on = DateField(_l("Held on"), validators=[DataRequired()])
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(), Length(max=4000)])


class FindingForm(FlaskForm):
    kind = SelectField(
        _l("Kind"),
        choices=[
            (FindingKind.MAJOR.value, _l("Major nonconformity")),
            (FindingKind.MINOR.value, _l("Minor nonconformity")),
            (FindingKind.OBSERVATION.value, _l("Observation")),
        ],
    )
    clause = StringField(_l("Clause"), validators=[Length(max=40)])
    text = TextAreaField(_l("Finding"), validators=[DataRequired(), Length(max=4000)])
    due = DateField(_l("Response due by"), validators=[Optional()])


class ResponseForm(FlaskForm):
    response = TextAreaField(
        _l("The body's response"), validators=[DataRequired(), Length(max=4000)]
    )


class EvidenceForm(FlaskForm):
    file = FileField(
        _l("File (PDF, PNG, JPEG, CSV or text; at most 10 MB)"), validators=[FileRequired()]
    )


class DecisionForm(FlaskForm):
    outcome = SelectField(
        _l("Decision"), choices=[("approve", _l("Approve")), ("refuse", _l("Refuse"))]
    )
    note_en = TextAreaField(_l("Reasons (English)"), validators=[DataRequired(), Length(max=4000)])
    note_th = TextAreaField(_l("Reasons (Thai)"), validators=[DataRequired(), Length(max=4000)])


class ConfirmForm(FlaskForm):
    """A bare button: nothing but the CSRF token."""


class CabForm(FlaskForm):
    national_id = StringField(
        _l("Juristic person number (13 digits)"),
        validators=[DataRequired(), Regexp(r"^\d{13}$", message=_l("Thirteen digits."))],
    )
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=300)])
    name_th = StringField(_l("Name (Thai)"), validators=[DataRequired(), Length(max=300)])
    phone = StringField(
        _l("Phone"),
        validators=[
            Optional(),
            Length(max=40),
            Regexp(r"^[0-9 +()\-.]+$", message=_l("Digits, spaces and + - ( ) only.")),
        ],
    )
    email = EmailField(_l("Email"), validators=[Optional(), Email(), Length(max=254)])
    website = StringField(
        _l("Website"), validators=[Optional(), URL(require_tld=True), Length(max=300)]
    )


class SiteForm(FlaskForm):
    name_en = StringField(_l("Site name (English)"), validators=[DataRequired(), Length(max=200)])
    name_th = StringField(_l("Site name (Thai)"), validators=[DataRequired(), Length(max=200)])
    address_en = TextAreaField(
        _l("Address (English)"), validators=[DataRequired(), Length(max=500)]
    )
    address_th = TextAreaField(_l("Address (Thai)"), validators=[DataRequired(), Length(max=500)])
    province_en = StringField(_l("Province (English)"), validators=[Optional(), Length(max=100)])
    province_th = StringField(_l("Province (Thai)"), validators=[Optional(), Length(max=100)])
    country = StringField(
        _l("Country (two letters)"),
        default="TH",
        validators=[
            DataRequired(),
            Regexp(r"^[A-Z]{2}$", message=_l("Two capital letters, such as TH.")),
        ],
    )


class AccountForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    roles = SelectMultipleField(
        _l("Roles"),
        choices=[(r.value, label) for r, label in ROLE_LABELS.items()],
        validators=[DataRequired()],
    )
    password = PasswordField(
        _l("First password (at least 12 characters)"),
        validators=[DataRequired(), Length(min=12, max=1024)],
    )


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[(r.value, label) for r, label in ROLE_LABELS.items()])
    grant = BooleanField(_l("Grant (unticked: revoke)"), default=True)
