"""Import and export pages: upload, preview with every error, confirm; download."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sofno.core.access import Actor
from sofno.core.access import PermissionDenied as ActionDenied
from sofno.transfer.exporting import export_table
from sofno.transfer.importing import ImportRefused, import_rows
from sofno.transfer.kinds import KINDS
from sofno.transfer.models import PendingImport
from sofno.transfer.tables import TableError, detect_format, read_table
from sofno.web.access import require_actor, require_writer
from sofno.web.forms import BootstrapMixin

KIND_LABELS = {
    "customers": gettext_lazy("Customers"),
    "contacts": gettext_lazy("Contacts"),
    "devices": gettext_lazy("Devices"),
}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class UploadForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"), choices=[])
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("CSV (UTF-8) or XLSX; the first row names the columns."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = list(KIND_LABELS.items())


def _staff(request: HttpRequest, *, write: bool) -> Actor:
    """The actor when staff (a writer for ``write``); 403 for customer users."""
    actor = require_writer(request) if write else require_actor(request)
    if actor.is_customer_user:
        raise PermissionDenied(_("Customer users may not see this."))
    return actor


def _columns() -> list[tuple[str, str]]:
    return [
        (KIND_LABELS[name], ", ".join(["id", *(c.name for c in kind.columns)]))
        for name, kind in KINDS.items()
    ]


@login_required
@require_http_methods(["GET", "POST"])
def transfer_home(request: HttpRequest) -> HttpResponse:
    actor = _staff(request, write=request.method == "POST")
    form = UploadForm(request.POST or None, request.FILES or None)
    context = {"form": form, "columns": _columns(), "kinds": KIND_LABELS}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        kind = KINDS[form.cleaned_data["kind"]]
        try:
            rows = read_table(data, detect_format(upload.name, data))
            report = import_rows(actor, kind, rows, dry_run=True)
        except (TableError, ImportRefused) as exc:
            form.add_error("file", str(exc))
        else:
            PendingImport.forget_stale()
            pending = None
            if not report.errors:
                pending = PendingImport.objects.create(
                    organization=actor.organization,
                    user=request.user,
                    kind=kind.name,
                    filename=upload.name[:200],
                    data=data,
                )
            context.update(report=report, pending=pending, filename=upload.name)
            return render(request, "web/transfer/preview.html", context)
    return render(request, "web/transfer/home.html", context)


@login_required
@require_POST
def transfer_confirm(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = _staff(request, write=True)
    pending = get_object_or_404(
        PendingImport, public_id=public_id, organization=actor.organization, user=request.user
    )
    data, kind = bytes(pending.data), KINDS[pending.kind]
    try:
        report = import_rows(actor, kind, read_table(data, detect_format(pending.filename, data)))
    except (TableError, ImportRefused, ActionDenied) as exc:
        messages.error(request, str(exc))
        return redirect("web:transfer")
    pending.delete()
    if report.errors:  # the data changed since the preview
        return render(
            request,
            "web/transfer/preview.html",
            {"report": report, "pending": None, "filename": pending.filename},
        )
    messages.success(
        request,
        _("Imported: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
        % {"created": report.created, "updated": report.updated, "unchanged": report.unchanged},
    )
    if report.keys:
        return render(request, "web/transfer/keys.html", {"keys": report.keys})
    return redirect("web:transfer")


@login_required
@require_GET
def transfer_export(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    actor = _staff(request, write=False)
    if kind not in KINDS or fmt not in CONTENT_TYPES:
        raise Http404
    response = HttpResponse(export_table(actor, KINDS[kind], fmt), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{kind}.{fmt}"'
    return response


patterns = [
    path("", transfer_home, name="transfer"),
    path("<uuid:public_id>/confirm/", transfer_confirm, name="transfer-confirm"),
    path("export/<str:kind>.<str:fmt>", transfer_export, name="transfer-export"),
]
