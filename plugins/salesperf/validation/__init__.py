"""Data validation with Great Expectations 1.x (DESIGN §5).

* :mod:`.gx_context`  the file data context under ``expectations/gx``: datasource, assets,
  suites (built by the code in ``expectations/``), validation definitions, one checkpoint per
  layer; credentials only in memory, at run time, from :func:`salesperf.warehouse.resolve`.
* :mod:`.runner`      runs a layer's checkpoint, records each suite in ``ops.validation_runs``.
* :mod:`.history`     ``ops.validation_runs``: writing runs, row-count bounds from history.
* :mod:`.alert`       the data-quality alert to the data team, through the e-mail outbox.

Import cost: GX is imported lazily (seconds), never at module level here.
"""

from salesperf.validation.runner import LayerResult, SuiteResult, ValidationFailed, run_layer

__all__ = ["LayerResult", "SuiteResult", "ValidationFailed", "run_layer"]
