"""loadkit inside Locust's web UI: the scenario's name on the page, and an exact tab.

Where it sits: ``locustfile`` calls ``extend_web_ui`` at Locust's ``init`` when a
web UI exists. It uses Locust 2.x's documented extension points: extra keys in
``web_ui.template_args`` (``extended_tabs``/``extended_tables``) and an
``after_request`` hook that adds ``extended_stats`` to ``/stats/requests``. The
page title becomes ``loadkit · <scenario> · Locust`` so the browser tab (and any
screenshot) says which scenario runs. Locust's own table keeps its (now
3-significant-digit) buckets; the loadkit tab shows the HDR percentiles the gate
will judge.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any

from locust.env import Environment

TAB_KEY = "loadkit"
COLUMNS = (("stage", "Stage"), ("label", "Step"), ("requests", "Requests"),
           ("errors", "Errors"), ("p50", "p50 ms"), ("p90", "p90 ms"), ("p95", "p95 ms"),
           ("p99", "p99 ms"), ("p999", "p99.9 ms"), ("max", "max ms"))


def tab_title(scenario_name: str, profile: str | None) -> str:
    return f"loadkit: {scenario_name}" + (f" ({profile})" if profile else "")


def extend_web_ui(environment: Environment, *, scenario_name: str, profile: str | None,
                  rows: Callable[[], list[dict[str, Any]]]) -> None:
    web_ui = environment.web_ui
    if web_ui is None:
        return
    title = tab_title(scenario_name, profile)
    web_ui.template_args["extended_tabs"] = [{"title": title, "key": TAB_KEY}]
    web_ui.template_args["extended_tables"] = [
        {"key": TAB_KEY, "structure": [{"key": k, "title": t} for k, t in COLUMNS]}]
    page_title = f"<title>loadkit · {html.escape(scenario_name)} · Locust</title>"
    base = (environment.parsed_options.web_base_path if environment.parsed_options else "") or ""

    app = web_ui.app
    assert app is not None

    @app.after_request
    def _loadkit(response: Any) -> Any:
        from flask import request

        path = request.path
        if path in (base + "/", base or "/") and response.mimetype == "text/html":
            response.direct_passthrough = False
            text = response.get_data(as_text=True).replace("<title>Locust</title>", page_title, 1)
            response.set_data(text)
        elif path == base + "/stats/requests" and response.is_json:
            data = response.get_json()
            data["extended_stats"] = [{"key": TAB_KEY, "data": rows()}]
            response.set_data(json.dumps(data))
        return response
