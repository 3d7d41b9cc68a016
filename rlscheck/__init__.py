"""rlscheck: find known secondary causes and aggravators of restless legs syndrome."""

__version__ = "0.1.0"
