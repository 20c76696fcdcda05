"""salesperf: the sales-performance data platform (extract, transform, validate, report)."""

__version__ = "0.1.0"
