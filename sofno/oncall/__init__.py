"""On call: availability, timetables, the phone queue and caller information.

``sofno.oncall.on_call_at(organization, moment)`` is the public question other apps
ask; it is loaded lazily because importing models while Django loads apps fails.
"""


def on_call_at(organization, moment):
    """The users staffing the phones at ``moment`` (see :mod:`sofno.oncall.selectors`)."""
    from sofno.oncall.selectors import on_call_at as _on_call_at

    return _on_call_at(organization, moment)
