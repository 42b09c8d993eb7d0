"""English dates on a 24-hour clock, as Spanish, Italian and Catalan already are.

Django's English formats use "a.m."/"p.m."; next to the 24-hour times the timetable
and the notifications print, one page showed both. A support desk reads times at
night: "00:43" cannot be misread, "12:43 a.m." can.
"""

DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
