"""The Locust bridge: run a loadkit scenario inside a Locust process.

Where it sits in the flow: ``loadkit locust`` (cli) calls ``launch.run_locust``,
which starts Locust as a *subprocess* on ``locustfile.py``. Inside that process
the bridge reuses loadkit's pure parts (scenario, payloads, stages, recorder, SLA,
reporters) and adds a user class, a load shape, an exact HDR listener and the SLA
gate. gevent and asyncio do not mix, so only modules imported by the locustfile
import locust; ``launch``, ``settings``, ``schedule``, ``collect`` and ``gate``
stay importable from anywhere (and are unit-tested without locust).
"""
