"""``python -m sofno.agent run``: the agent without the ``sofno`` console script."""

import sys

from sofno.agent.main import main

sys.exit(main())
