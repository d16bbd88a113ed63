"""The payloads the attack bundles carry. Each one, if it ever ran, would create the marker file: the path in
$MLCLI_ATTACK_MARKER (each test points it into its own tmp_path), else ``attack-marker`` in the working
directory (also the test's tmp_path). A test passes only while the marker does not exist.

A stand-in for any command an attacker would run: writing a file is as much "code ran" as a shell would be.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

MARKER_ENV = "MLCLI_ATTACK_MARKER"
MARKER_NAME = "attack-marker"

# Python source: a module, a custom-code file beside a Hugging Face config, the body a pickle executes.
CODE = (
    "import os, pathlib\n"
    f"pathlib.Path(os.environ.get({MARKER_ENV!r}) or {MARKER_NAME!r}).write_text('code from a bundle ran')\n"
)

# The same as one expression (for eval).
EXPRESSION = (
    f"__import__('pathlib').Path(__import__('os').environ.get({MARKER_ENV!r}) or {MARKER_NAME!r})"
    ".write_text('code from a bundle ran')"
)


def fire() -> None:
    """What every payload does."""
    Path(os.environ.get(MARKER_ENV) or MARKER_NAME).write_text("code from a bundle ran")


class PicklePayload:
    """Unpickling this runs ``exec(CODE)`` (no import of this module is needed by the victim)."""

    def __reduce__(self):
        return (exec, (CODE,))


def pickle_bytes() -> bytes:
    return pickle.dumps(PicklePayload(), protocol=4)


class Payload:
    """A custom class in a skops file: building it (``__setstate__``) or using it as a step fires."""

    def __setstate__(self, state):
        fire()
        self.__dict__.update(state)

    def fit(self, X, y=None):
        fire()
        return self

    def transform(self, X):
        fire()
        return X

    def predict(self, X):
        fire()
        return X


CUSTOM_MODULE = "custom_code"  # custom_code.py beside a Hugging Face config.json / tokenizer_config.json

CUSTOM_CODE_FILE = CODE + (
    "\n"
    "from transformers import PretrainedConfig, PreTrainedModel, PreTrainedTokenizer\n\n\n"
    "class AttackConfig(PretrainedConfig):\n"
    "    model_type = 'mlcli-attack'\n\n\n"
    "class AttackModel(PreTrainedModel):\n"
    "    config_class = AttackConfig\n\n\n"
    "class AttackTokenizer(PreTrainedTokenizer):\n"
    "    pass\n"
)
