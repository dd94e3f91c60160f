"""What the launcher tells the Locust process, through environment variables.

``launch`` writes these; ``locustfile`` reads them. Environment variables (rather
than Locust command-line options) keep Locust's own parser and its ``--profile``
option untouched, and survive Locust's ``--processes`` fork.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from loadkit.errors import UsageError

ENV_SCENARIO = "LOADKIT_SCENARIO"
ENV_PROFILE = "LOADKIT_PROFILE"
ENV_OUT = "LOADKIT_OUT"
ENV_PARTIAL_OUT = "LOADKIT_PARTIAL_OUT"      # workers also write their own partial result here
ENV_USER_RPS = "LOADKIT_LOCUST_USER_RPS"     # per-user pacing ceiling for rate stages
DEFAULT_USER_RPS = 10.0


@dataclass(frozen=True)
class BridgeSettings:
    scenario_path: str
    profile: str | None = None
    out_dir: str = "reports/locust"
    partial_out_dir: str | None = None
    user_rps: float = DEFAULT_USER_RPS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BridgeSettings:
        environ = os.environ if env is None else env
        path = environ.get(ENV_SCENARIO, "").strip()
        if not path:
            raise UsageError(f"{ENV_SCENARIO} is not set: start Locust through `loadkit locust SCENARIO`")
        raw_rps = environ.get(ENV_USER_RPS, "").strip()
        try:
            user_rps = float(raw_rps) if raw_rps else DEFAULT_USER_RPS
        except ValueError:
            raise UsageError(f"{ENV_USER_RPS}: {raw_rps!r} is not a number") from None
        if user_rps <= 0:
            raise UsageError(f"{ENV_USER_RPS}: must be positive")
        return cls(
            scenario_path=path,
            profile=environ.get(ENV_PROFILE, "").strip() or None,
            out_dir=environ.get(ENV_OUT, "").strip() or cls.out_dir,
            partial_out_dir=environ.get(ENV_PARTIAL_OUT, "").strip() or None,
            user_rps=user_rps,
        )

    def to_env(self) -> dict[str, str]:
        env = {ENV_SCENARIO: self.scenario_path, ENV_OUT: self.out_dir,
               ENV_USER_RPS: repr(self.user_rps)}
        if self.profile:
            env[ENV_PROFILE] = self.profile
        if self.partial_out_dir:
            env[ENV_PARTIAL_OUT] = self.partial_out_dir
        return env
