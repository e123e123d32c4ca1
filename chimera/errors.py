"""The one base class of the pipeline's domain errors.

A domain error is bad input or a refused configuration, named in its message (the file and what is
wrong with it). Stage scripts print it as one line and exit 1 (:mod:`chimera.stage`); anything else is a
bug and keeps its traceback.
"""


class ChimeraError(Exception):
    """Bad input or a refused configuration: the message names the file or key and what is wrong."""
