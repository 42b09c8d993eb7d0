"""Core's background tasks.

``probe`` is the queue's smoke test: it proves that a task enqueued by one process
runs in a ``sofno worker`` process that shares the database.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from huey.contrib.djhuey import db_task

from sofno.core.models import Organization


@db_task()
def probe(path: str, token: str) -> dict[str, Any]:
    """Write what the worker sees to ``path`` (a JSON file) and return it.

    - ``pid`` is the process that ran the task, so a caller can tell that the
      worker ran it rather than the process that enqueued it;
    - ``organizations`` lists the slugs the worker reads from the database;
    - the file is written to a temporary name and renamed, so a reader never sees
      half of it.
    """
    seen = {
        "token": token,
        "pid": os.getpid(),
        "organizations": sorted(Organization.objects.values_list("slug", flat=True)),
    }
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(json.dumps(seen))
    partial.replace(target)
    return seen
