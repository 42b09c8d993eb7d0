"""Page forms. Each one leans on the model's own validators, so a page and the API
reject the same input with the same rule."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from zoneinfo import available_timezones

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from sofno.core.access import Actor
from sofno.core.access import PermissionDenied as ActionDenied
from sofno.core.models import Membership, Role
from sofno.core.usernames import sign_in_name, sign_in_name_expression
from sofno.core.validators import normalize_phone
from sofno.directory.models import Contact, ContactType, Customer, StaffProfile

T = TypeVar("T")

DAY_LABELS = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)

_RANGE = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*[-–]\s*(\d{1,2})(?::(\d{2}))?$")


def searchable(field: forms.Field) -> forms.Field:
    """Make ``field``'s select filterable by typing (static ``web/select-filter.js``,
    loaded on every page): for long lists such as an organization's customers."""
    field.widget.attrs.update(
        {
            "data-searchable": _("Type to filter"),
            # Filled in by the script: how many options match, of how many.
            "data-searchable-count": _("%(shown)s of %(total)s"),
        }
    )
    return field


def _hhmm(hours: str, minutes: str | None) -> str | None:
    h, m = int(hours), int(minutes or 0)
    if (h, m) == (24, 0):
        return "24:00"
    if h > 23 or m > 59:
        return None
    return f"{h:02d}:{m:02d}"


def parse_day(day: int, text: str) -> list[dict[str, Any]]:
    """Ranges typed for one weekday: ``"9-13, 14:30-18"`` becomes two ranges.

    Rules (the same as :class:`sofno.core.windows.WeeklyWindows`):
    - each range is ``start-end`` with times ``H``, ``HH`` or ``HH:MM``; ``24:00`` ends a day;
    - start is before end (an overnight window is two ranges, one per day);
    - ranges of one day do not overlap.
    """
    ranges = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;]", text or ""))):
        match = _RANGE.match(part)
        start = match and _hhmm(match[1], match[2])
        end = match and _hhmm(match[3], match[4])
        if not match or not start or not end or start == "24:00":
            raise ValidationError(
                _("%(day)s: “%(part)s” is not a time range like 09:00-17:30."),
                code="format",
                params={"day": DAY_LABELS[day], "part": part},
            )
        if start >= end:
            raise ValidationError(
                _(
                    "%(day)s: %(start)s-%(end)s ends before it starts. Write an overnight "
                    "window as two ranges, up to 24:00 and from 00:00 on the next day."
                ),
                code="inverted",
                params={"day": DAY_LABELS[day], "start": start, "end": end},
            )
        ranges.append({"day": day, "start": start, "end": end})
    ranges.sort(key=lambda r: r["start"])
    for earlier, later in itertools.pairwise(ranges):
        if later["start"] < earlier["end"]:
            raise ValidationError(
                _("%(day)s: %(a)s and %(b)s overlap."),
                code="overlap",
                params={
                    "day": DAY_LABELS[day],
                    "a": f"{earlier['start']}-{earlier['end']}",
                    "b": f"{later['start']}-{later['end']}",
                },
            )
    return ranges


class WeeklyWindowsWidget(forms.MultiWidget):
    """Seven text inputs, Monday to Sunday, each holding that day's ranges."""

    template_name = "web/widgets/weekly_windows.html"

    def __init__(self, attrs: dict | None = None) -> None:
        base = {"class": "form-control form-control-sm", "placeholder": "09:00-13:00, 14:00-18:00"}
        widgets = [forms.TextInput(attrs={**base, **(attrs or {})}) for _ in DAY_LABELS]
        super().__init__(widgets, attrs)

    def decompress(self, value: dict | None) -> list[str]:
        days: list[list[str]] = [[] for _ in DAY_LABELS]
        for item in (value or {}).get("ranges", []):
            days[item["day"]].append(f"{item['start']}-{item['end']}")
        return [", ".join(day) for day in days]

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict:
        context = super().get_context(name, value, attrs)
        for label, sub in zip(DAY_LABELS, context["widget"]["subwidgets"], strict=True):
            sub["day_label"] = label
        return context


class WeeklyWindowsField(forms.MultiValueField):
    """Weekly time windows typed day by day; cleans to ``{"ranges": [...]}``."""

    widget = WeeklyWindowsWidget

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        fields = [forms.CharField(required=False, max_length=200) for _ in DAY_LABELS]
        super().__init__(fields, require_all_fields=False, **kwargs)

    def compress(self, data_list: list[str]) -> dict:
        ranges: list[dict[str, Any]] = []
        errors: list[ValidationError] = []
        for day, text in enumerate(data_list or []):
            try:
                ranges += parse_day(day, text)
            except ValidationError as exc:
                errors.append(exc)
        if errors:
            raise ValidationError(errors)
        return {"ranges": ranges} if ranges else {}


class TimezoneInput(forms.TextInput):
    """A text input suggesting IANA timezone names (a datalist, fine on phones)."""

    template_name = "web/widgets/timezone.html"

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict:
        context = super().get_context(name, value, attrs)
        context["widget"]["timezones"] = sorted(available_timezones() | {"UTC"})
        context["widget"]["attrs"]["list"] = f"{context['widget']['attrs']['id']}-list"
        return context


def clean_phone_value(value: str) -> str:
    """E.164 form of a typed phone number, or a field error naming the rule."""
    if not value:
        return ""
    try:
        return normalize_phone(value)
    except ValueError:
        raise ValidationError(
            _(
                "Enter the number in international form, starting with + and the "
                "country code, e.g. +39 06 1234 5678."
            ),
            code="phone",
        ) from None


class BootstrapMixin:
    """Adds Bootstrap classes to each widget so every form looks the same."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.MultiWidget):
                continue
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            field = self.fields.get(name)
            if field is not None and not isinstance(field.widget, forms.MultiWidget):
                classes = field.widget.attrs.get("class", "")
                field.widget.attrs["class"] = f"{classes} is-invalid".strip()


class ProfileForm(BootstrapMixin, forms.ModelForm):
    """A person's own phone, timezone, language and quiet hours."""

    quiet_hours = WeeklyWindowsField(
        label=_("Quiet hours"),
        help_text=_("When not to be disturbed, in your timezone. Leave a day empty for none."),
    )

    class Meta:
        model = StaffProfile
        fields = ["phone", "timezone", "language", "quiet_hours"]
        widgets = {
            "timezone": TimezoneInput(),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        }
        help_texts = {"phone": _("International form, e.g. +39 06 1234 5678.")}

    def clean_phone(self) -> str:
        return clean_phone_value(self.cleaned_data.get("phone", ""))


class CustomerForm(BootstrapMixin, forms.ModelForm):
    """A customer's details; saved through ``directory.actions`` (validated, audited)."""

    business_hours = WeeklyWindowsField(
        label=_("Business hours"),
        help_text=_("In the customer's timezone. Leave every day empty for always open."),
    )
    assigned_agents = forms.ModelMultipleChoiceField(
        label=_("Assigned agents"),
        queryset=Membership.objects.none(),
        to_field_name="public_id",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Customer
        fields = [
            "name",
            "address",
            "city",
            "region",
            "country",
            "timezone",
            "email",
            "active",
            "alerts_enabled",
            "refusal_message",
            "business_hours",
            "notes",
        ]
        widgets = {"timezone": TimezoneInput(), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assigned_agents"].queryset = (
            Membership.objects.filter(organization=actor.organization)
            .exclude(role__in=[Role.CUSTOMER, Role.VIEWER])
            .select_related("user")
            .order_by(sign_in_name_expression("user__username"))
        )
        self.fields["assigned_agents"].label_from_instance = lambda m: (
            m.user.get_full_name() or sign_in_name(m.user)
        )
        if not self.instance.pk:
            # A new customer is most likely where the support company works.
            self.initial.setdefault("timezone", actor.organization.timezone)
        else:
            self.initial["assigned_agents"] = list(
                self.fields["assigned_agents"]
                .queryset.filter(user__in=self.instance.assigned_agents.all())
                .values_list("public_id", flat=True)
            )

    def clean_country(self) -> str:
        country = (self.cleaned_data.get("country") or "").strip().upper()
        if country and not re.fullmatch(r"[A-Z]{2}", country):
            raise ValidationError(
                _("Use the two-letter ISO 3166 code, e.g. IT or ES."), code="country"
            )
        return country

    def action_fields(self) -> dict[str, Any]:
        """The cleaned values in the shape ``directory.actions`` takes."""
        fields = {name: self.cleaned_data[name] for name in self.Meta.fields}
        fields["assigned_agents"] = [m.public_id for m in self.cleaned_data["assigned_agents"]]
        return fields


class ContactForm(BootstrapMixin, forms.ModelForm):
    """A contact of one customer."""

    reachable_hours = WeeklyWindowsField(
        label=_("Reachable hours"),
        help_text=_("In the customer's timezone. Leave every day empty for any time."),
    )

    class Meta:
        model = Contact
        fields = [
            "name",
            "contact_type",
            "is_primary",
            "email",
            "phone",
            "notes",
            "reachable_hours",
        ]
        widgets = {
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "phone": _("International form, e.g. +39 06 1234 5678."),
            "is_primary": _("At most one primary contact of each type per customer."),
        }

    def __init__(self, *args: Any, actor: Actor, customer: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["contact_type"].queryset = ContactType.objects.filter(
            organization=actor.organization
        )

    def clean_phone(self) -> str:
        return clean_phone_value(self.cleaned_data.get("phone", ""))

    def _post_clean(self) -> None:
        # The model's own checks (``Contact.clean``: same organization) need the
        # organization and the customer, which are not form fields.
        self.instance.organization = self.customer.organization
        self.instance.customer = self.customer
        super()._post_clean()

    def action_fields(self) -> dict[str, Any]:
        """The cleaned values in the shape ``directory.actions`` takes."""
        fields = {name: self.cleaned_data[name] for name in self.Meta.fields}
        fields["contact_type"] = fields["contact_type"].slug
        fields["customer"] = self.customer.public_id
        return fields


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What :func:`act` did: ``ok`` with the action's ``value``, or not (the reasons
    are then on the form)."""

    ok: bool
    value: T | None = None


def act(form: forms.BaseForm, action: Callable[[], T]) -> Outcome[T]:
    """Validate ``form``, then run ``action`` (which reads ``form.cleaned_data``): the
    one way every form page saves.

    An invalid form is not ok and the action does not run; the action's
    ``ValidationError`` goes beside the fields it names (the page shows the form
    again); its refusal (``PermissionDenied`` of core's access rules) is a 403 page,
    like any other forbidden request.
    """
    if not form.is_valid():
        return Outcome(ok=False)
    try:
        value = action()
    except ValidationError as exc:
        add_action_errors(form, exc)
        return Outcome(ok=False)
    except ActionDenied as exc:
        raise PermissionDenied(exc.message) from None
    return Outcome(ok=True, value=value)


def add_action_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show an action's ``ValidationError`` on the form, each on its own field when
    the form has it (the rest above the form)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)
