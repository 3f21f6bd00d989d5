"""The whole schema: every domain's models, imported together.

Each domain keeps its own models; a foreign key or relationship that points at
another domain's table needs that table's model loaded too. The entry points
(the app, the CLI, Alembic, the tests) import this once, so every mapper and
foreign key resolves, whatever part of the register they use first.
"""

from __future__ import annotations

from . import changes, version
from .cases import models as cases
from .certificates import models as certificates
from .db import Base
from .log import models as log
from .register import models as register
from .search import models as search
from .staff import models as staff

#: Every model module, in the order their tables depend on one another.
MODULES = (staff, register, certificates, search, version, changes, cases, log)
metadata = Base.metadata
