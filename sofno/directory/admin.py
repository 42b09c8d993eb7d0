from django.contrib import admin

from sofno.directory.models import Contact, ContactType, Customer, CustomerUser, StaffProfile


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "city", "active", "alerts_enabled")
    list_filter = ("organization", "active")
    search_fields = ("name", "city")
    inlines = [ContactInline]


admin.site.register(ContactType)
admin.site.register(CustomerUser)
admin.site.register(StaffProfile)
