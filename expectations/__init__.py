"""Great Expectations suites as code (GX 1.x).

One module per landing area (``landing_*``) and per mart group (``marts_*``); each module
defines suite builders ``build(context) -> ExpectationSuite`` and lists them in ``SUITES``.
:mod:`expectations.registry` collects them; :mod:`salesperf.validation` stores the suites,
validation definitions and one checkpoint per layer in the file data context ``gx/`` (never
edit the generated JSON there: change the builders), runs them and records the results.
"""
