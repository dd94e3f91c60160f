"""Field markers the JSON codec reads (``dataclasses.field(metadata=...)``).

Kept apart from ``model.py`` so that every value type in ``results/`` (the model,
the analysis records) can mark its fields without importing the model.

* ``OMIT``: left out of result.json while at its default, written after the
  class's other fields (a mixed-in group such as a stage's streaming figures).
* ``OMIT_HERE``: left out while at its default, but written in its declared place
  (an analysis key that exists only for some profiles, e.g. ``batch_sizes``).
* ``EMPTY_AS_NONE``: None is written as ``{}`` and ``{}`` read back as None (a
  profile's ``analysis`` before it is judged: the file keeps its ``{}``).
"""

from __future__ import annotations

OMIT: dict[str, bool] = {"omit_default": True}
OMIT_HERE: dict[str, bool] = {"omit_default": True, "in_place": True}
EMPTY_AS_NONE: dict[str, bool] = {"empty_as_none": True}

__all__ = ["EMPTY_AS_NONE", "OMIT", "OMIT_HERE"]
