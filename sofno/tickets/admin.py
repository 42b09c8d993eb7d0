from django.contrib import admin

from sofno.tickets.models import Ticket, TicketChange, TicketStatus


class TicketChangeInline(admin.TabularInline):
    model = TicketChange
    extra = 0
    readonly_fields = ("at", "actor", "kind", "from_value", "to_value")


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ("number", "title", "organization", "customer", "status", "priority")
    list_filter = ("organization", "status", "priority")
    inlines = [TicketChangeInline]


admin.site.register(TicketStatus)
