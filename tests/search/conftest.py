"""The scenario room's ``data_dir`` / ``write`` fixtures (a small CSV beside a scenario)."""

from tests.scenario.conftest import data_dir, write

__all__ = ["data_dir", "write"]
