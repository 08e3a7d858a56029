"""``field__literal_in=[…]``: an ``IN`` whose fixed codes are written into the SQL instead of
bound as parameters (issue 13, dashboards).

SQLite uses a partial index only when the query repeats the index's condition, and it cannot
see through bound parameters: ``state IN (?, ?, ?)`` never matches an index ``WHERE state IN
('running', 'paused', 'breached')``, and the query scans the table. Written as literals, the
same filter reads the partial index. Only for the application's own fixed codes (state names):
anything but lower-case letters, digits and underscores is refused.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import CharField, Lookup

_CODE = re.compile(r"^[a-z0-9_]+$")


class LiteralIn(Lookup):
    lookup_name = "literal_in"

    def get_prep_lookup(self) -> Any:
        values = list(self.rhs)
        for value in values:
            if not isinstance(value, str) or not _CODE.match(value):
                raise ValueError(f"literal_in takes fixed codes only, not {value!r}")
        return values

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, params = self.process_lhs(compiler, connection)
        values = ", ".join(f"'{v}'" for v in self.rhs)
        return f"{lhs} IN ({values})", list(params)


CharField.register_lookup(LiteralIn)
