"""A training run killed at a chosen step, for the resume tests of SFT and GRPO."""

from transformers import TrainerCallback


class Killed(Exception):
    pass


class KillAt(TrainerCallback):
    """Raises :class:`Killed` at the end of optimiser step ``step``, as a kill would stop the run."""

    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise Killed
