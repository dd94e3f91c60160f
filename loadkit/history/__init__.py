"""Run history: every result stored, change points found across runs, a gate on the trend.

The flow (DESIGN.md): result.json -> ``figures`` (what is kept of a RunResult) ->
``store`` (SQLAlchemy Core: a SQLite file, or a database URL a team shares) ->
``changes`` (Apache Otava's E-Divisive per scenario, profile and metric) ->
``gate`` (the candidate against its current regime); ``export`` feeds
github-action-benchmark and Bencher. Reads RunResults only, through the codec.
The value types live in ``loadkit.results.history``; reporters render them.
"""
