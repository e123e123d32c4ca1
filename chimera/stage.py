"""The one entry shape every ``stages/<name>.py`` uses.

A stage script is three lines: it hands :func:`main` a function of the validated params that calls
``chimera.<name>.run(<its group>, paths...)``, which writes the stage's outs and metrics. :func:`main`
sets up logging, loads ``params.yaml`` and turns a domain error (:class:`chimera.errors.ChimeraError`,
a params error included) into one error line and exit status 1; a bug keeps its traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import NoReturn

from chimera.config import Params, load_params
from chimera.errors import ChimeraError


def main(body: Callable[[Params], object], argv: list[str] | None = None) -> NoReturn:
    """Run ``body(params)`` as a DVC stage and exit with its status (0, or 1 on a domain error)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        body(load_params())
    except ChimeraError as err:
        logging.getLogger("chimera.stage").error("%s", err)
        sys.exit(1)
    sys.exit(0)
