"""A realistic ML model endpoint to rehearse load tests against (imports nothing from loadkit).

An iris classifier (numpy logistic regression fitted at start-up) behind
``POST /predict``, ``GET /health``, ``GET /ready`` and ``GET /metrics``, with
capacity and queueing, latency models, faults, stalls, cold start and model
versions. Run ``python -m mock_server --help``; in code: ``make_app(options)``,
``BackgroundServer(options)``, ``from_mapping({...})``.
"""

from mock_server.app import make_app
from mock_server.options import MockOptions, from_mapping, parse_args, to_argv
from mock_server.serve import BackgroundServer

__all__ = ["BackgroundServer", "MockOptions", "from_mapping", "make_app", "parse_args", "to_argv"]
