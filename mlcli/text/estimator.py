"""TransformerClassifier / TransformerRegressor: fine-tuned Hugging Face encoders as scikit-learn estimators.

The constructor only stores its arguments; ``fit`` checks them, imports torch and transformers, loads the
base model offline and fine-tunes ``AutoModelForSequenceClassification``. ``X`` is one text per row (what
:class:`mlcli.text.columns.TextJoiner` gives) or a DataFrame of text columns (joined with their names).

In a model bundle the weights live beside the pickle as safetensors plus the tokenizer files
(``save_artifacts`` / ``load_artifacts``); the pickle itself then holds no torch objects.
"""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from mlcli.errors import BundleError, ConfigError, DataError
from mlcli.text import base_model as bm
from mlcli.text import runtime as rt
from mlcli.text.columns import check_not_empty, join_texts
from mlcli.text.finetune import FineTuning
from mlcli.text.progress import Progress

_TORCH_STATE = ("model_", "tokenizer_", "device_")


def _param_error(name: str, rule: str, value: Any) -> ConfigError:
    return ConfigError(f"the '{name}' parameter of model 'transformer' must be {rule}, got {value!r}")


class _TransformerBase(BaseEstimator):
    _regression = False

    def __init__(self, base_model: str | None = None, epochs: int = 3, learning_rate: float = 5e-5,
                 batch_size: int = 16, max_length: int | None = None, warmup: float = 0.1, weight_decay: float = 0.01,
                 early_stopping: int = 0, validation_fraction: float = 0.1, class_weight: Any = None,
                 random_state: int = 0, n_threads: int | None = None, device: str = "auto", verbose: int = 1):
        self.base_model = base_model
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_length = max_length
        self.warmup = warmup
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.random_state = random_state
        self.n_threads = n_threads
        self.device = device
        self.verbose = verbose

    # ------------------------------------------------------------------ checks

    def _check_params(self) -> None:
        def is_int(v: Any) -> bool:
            return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

        def is_num(v: Any) -> bool:
            return isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and math.isfinite(v)

        if not is_int(self.epochs) or self.epochs < 1:
            raise _param_error("epochs", "an int >= 1", self.epochs)
        if not is_num(self.learning_rate) or not 0 < self.learning_rate < 1:
            raise _param_error("learning_rate", "a number in (0, 1)", self.learning_rate)
        if not is_int(self.batch_size) or self.batch_size < 1:
            raise _param_error("batch_size", "an int >= 1", self.batch_size)
        if self.max_length is not None and (not is_int(self.max_length) or self.max_length < 8):
            raise _param_error("max_length", "an int >= 8 or none (128, or less if the model takes less)",
                               self.max_length)
        if not is_num(self.warmup) or self.warmup < 0:
            raise _param_error("warmup", "a share of the steps in [0, 1) or a number of steps >= 1", self.warmup)
        if not is_num(self.weight_decay) or self.weight_decay < 0:
            raise _param_error("weight_decay", "a number >= 0", self.weight_decay)
        if not is_int(self.early_stopping) or self.early_stopping < 0:
            raise _param_error("early_stopping", "an int >= 0 (epochs without improvement; 0 = off)",
                               self.early_stopping)
        if not is_num(self.validation_fraction) or not 0 < self.validation_fraction < 0.5:
            raise _param_error("validation_fraction", "a number in (0, 0.5)", self.validation_fraction)
        cw = self.class_weight
        if cw is not None and cw != "balanced" and not isinstance(cw, dict):
            raise _param_error("class_weight", "'balanced', a mapping of class index to weight, or none", cw)
        if cw is not None and self._regression:
            raise ConfigError("class weights apply to classification only; drop --class-weight for regression")

    def check_setup(self) -> Path:
        """Check the parameters, the base model directory and --max-length; cheap (reads config.json only)."""
        self._check_params()
        path = bm.resolve_base_model(self.base_model)
        self._max_length = bm.check_max_length(path, self.max_length, self.base_model, default=128)
        return path

    # ------------------------------------------------------------------ fitting

    def _texts(self, X: Any) -> list[str]:
        return join_texts(X)

    def _prepare_targets(self, y: Any) -> tuple[np.ndarray, int]:
        raise NotImplementedError

    def _loss_weights(self, y: np.ndarray, k: int) -> np.ndarray | None:
        return None

    def fit(self, X: Any, y: Any) -> _TransformerBase:
        path = self.check_setup()
        texts = self._texts(X)
        check_not_empty(texts, [str(c) for c in getattr(X, "columns", ["text"])])
        if len(texts) != len(y):
            raise DataError(f"{len(texts)} texts but {len(y)} targets")
        target, num_labels = self._prepare_targets(y)
        torch, _ = rt.require_torch("model 'transformer'")
        rt.set_threads(torch, self.n_threads)
        torch.manual_seed(int(self.random_state))
        rng = np.random.RandomState(int(self.random_state))
        device = rt.pick_device(torch, self.device)
        tokenizer = rt.load_tokenizer(path)
        model = rt.load_sequence_model(path, num_labels, self._regression).to(device)
        ids = rt.tokenize(tokenizer, texts, self._max_length)
        self.max_length_ = self._max_length
        train_idx, val_idx = self._split(target, rng)
        run = FineTuning(torch, model, device, ids, torch.tensor(target, dtype=torch.float32 if self._regression
                                                                  else torch.long),
                         train_idx, val_idx, self._loss_fn(torch, target[train_idx], num_labels, device),
                         rt.pad_id(tokenizer), self._regression)
        steps = math.ceil(len(train_idx) / int(self.batch_size)) * int(self.epochs)
        progress = Progress(steps, f"fine-tuning on {len(train_idx)} rows ({device.type})", "steps",
                            enabled=bool(self.verbose))
        t0 = time.perf_counter()
        try:
            run.run(int(self.epochs), int(self.batch_size), int(self.early_stopping), float(self.learning_rate),
                    self.warmup, self._param_groups(model), rng, progress,
                    lambda: self._validation_loss(torch, model, ids, val_idx, run.target, run.loss_fn, run.pad,
                                                  device))
        finally:
            progress.close()
        if run.best_state is not None:
            model.load_state_dict(run.best_state)
        model.eval()
        self.model_, self.tokenizer_, self.device_ = model, tokenizer, device
        self.history_ = run.history
        self.n_epochs_ = len(run.history)
        self.fit_seconds_ = round(time.perf_counter() - t0, 3)
        self.train_rows_per_second_ = round(len(train_idx) * len(run.history) / max(self.fit_seconds_, 1e-9), 2)
        self.num_labels_ = num_labels
        self.n_features_in_ = 1
        self.base_model_path_ = str(path)
        return self

    def _loss_fn(self, torch: Any, train_target: np.ndarray, num_labels: int, device: Any) -> Any:
        if self._regression:
            return torch.nn.MSELoss()
        weights = self._loss_weights(train_target, num_labels)
        w = torch.tensor(weights, dtype=torch.float32, device=device) if weights is not None else None
        return torch.nn.CrossEntropyLoss(weight=w)

    def _split(self, target: np.ndarray, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
        n = len(target)
        idx = np.arange(n)
        if not self.early_stopping:
            return idx, idx[:0]
        n_val = max(1, int(round(self.validation_fraction * n)))
        if n - n_val < 2:
            raise DataError(f"{n} rows are too few to hold out a validation split for --early-stopping")
        from sklearn.model_selection import train_test_split

        stratify = None
        if not self._regression:
            counts = np.bincount(target)
            if counts[counts > 0].min() >= 2 and n_val >= (counts > 0).sum():
                stratify = target
        tr, va = train_test_split(idx, test_size=n_val, random_state=rng.randint(2**31 - 1), stratify=stratify)
        return np.sort(tr), np.sort(va)

    def _param_groups(self, model: Any) -> list[dict[str, Any]]:
        decay, no_decay = [], []
        for name, p in model.named_parameters():
            if not p.requires_grad:
                continue
            (no_decay if p.ndim < 2 or "LayerNorm" in name or "layer_norm" in name else decay).append(p)
        return [{"params": decay, "weight_decay": float(self.weight_decay)},
                {"params": no_decay, "weight_decay": 0.0}]

    def _validation_loss(self, torch: Any, model: Any, ids: list, val_idx: np.ndarray, tgt: Any, loss_fn: Any,
                         pad: int, device: Any) -> float:
        logits = self._forward(torch, model, [ids[i] for i in val_idx], pad, device)
        out = torch.from_numpy(logits).to(device)
        out = out.squeeze(-1) if self._regression else out
        with torch.inference_mode():
            return float(loss_fn(out, tgt[val_idx].to(device)))

    def _forward(self, torch: Any, model: Any, ids: list, pad: int, device: Any) -> np.ndarray:
        """Logits for token-id lists, in length-sorted batches, under inference mode."""
        was_training = model.training
        model.eval()
        out = np.zeros((len(ids), model.config.num_labels), dtype=np.float32)
        batch = max(int(self.batch_size) * 2, 1)
        with torch.inference_mode():
            for rows in rt.sorted_batches([len(x) for x in ids], batch):
                input_ids, mask = rt.collate(torch, [ids[i] for i in rows], pad, device)
                with rt.autocast(torch, device):
                    logits = model(input_ids=input_ids, attention_mask=mask).logits
                out[rows] = logits.float().cpu().numpy()
        if was_training:
            model.train()
        return out

    # ------------------------------------------------------------------ predicting

    def _logits(self, X: Any) -> np.ndarray:
        if not hasattr(self, "history_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this transformer model is not fitted yet; call fit first")
        if getattr(self, "model_", None) is None:
            raise BundleError("the transformer's weights are not loaded; load the model bundle with "
                              "mlcli.models.bundle.load_bundle (or call load_artifacts)")
        torch, _ = rt.require_torch("model 'transformer'")
        rt.set_threads(torch, self.n_threads)
        texts = self._texts(X)
        ids = rt.tokenize(self.tokenizer_, texts, self.max_length_)
        return self._forward(torch, self.model_, ids, rt.pad_id(self.tokenizer_), self.device_)

    # ------------------------------------------------------------------ bundle hooks

    def save_artifacts(self, directory: str | Path) -> None:
        """Weights as safetensors and the tokenizer, in ``directory``; the next pickle leaves them out."""
        if getattr(self, "model_", None) is None:
            raise BundleError("the transformer model has no weights to save; fit it first")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.model_.save_pretrained(str(directory), safe_serialization=True)
        self.tokenizer_.save_pretrained(str(directory))
        self._weights_saved = True

    def forget_saved_artifacts(self) -> None:
        """The bundle is written: copies made from now on (pickles) carry the weights again."""
        self.__dict__.pop("_weights_saved", None)

    def load_artifacts(self, directory: str | Path) -> None:
        directory = Path(directory)
        if not (directory / "config.json").is_file() or not any(
                (directory / f).is_file() for f in bm.WEIGHT_FILES):
            raise BundleError(f"the model bundle is incomplete: the transformer weights are missing from {directory}")
        torch, _ = rt.require_torch("this model bundle (a fine-tuned transformer)")
        device = rt.pick_device(torch, self.device)
        self.tokenizer_ = rt.load_tokenizer(directory)
        try:
            model = rt.load_sequence_model(directory, int(self.num_labels_), self._regression)
        except ConfigError as exc:
            raise BundleError(str(exc)) from exc
        model.eval()
        self.model_, self.device_ = model.to(device), device

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if state.pop("_weights_saved", False):  # saved beside the bundle's pipeline file by save_artifacts
            for key in _TORCH_STATE:
                state.pop(key, None)
        elif "device_" in state:
            state["device_"] = str(state["device_"])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if isinstance(self.__dict__.get("device_"), str):
            torch, _ = rt.require_torch("a fine-tuned transformer")
            self.device_ = torch.device(self.device_)

    def __deepcopy__(self, memo: dict) -> _TransformerBase:
        clone = type(self).__new__(type(self))
        memo[id(self)] = clone
        for key, value in self.__dict__.items():
            clone.__dict__[key] = copy.deepcopy(value, memo)
        return clone


class TransformerClassifier(ClassifierMixin, _TransformerBase):
    """Fine-tunes a text encoder for binary or multiclass classification (cross-entropy, optional class weights)."""

    def _prepare_targets(self, y: Any) -> tuple[np.ndarray, int]:
        y = np.asarray(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise DataError("the transformer classifier needs at least two classes in the training rows")
        return encoded.astype(np.int64), len(self.classes_)

    def _loss_weights(self, y: np.ndarray, k: int) -> np.ndarray | None:
        if self.class_weight is None:
            return None
        if self.class_weight == "balanced":
            counts = np.bincount(y, minlength=k).astype(float)
            counts[counts == 0] = 1.0
            return len(y) / (k * counts)
        weights = np.ones(k)
        lookup = {str(c): i for i, c in enumerate(self.classes_)}
        for key, value in self.class_weight.items():
            if str(key) not in lookup:
                raise ConfigError(f"class_weight names class {key!r}, which is not among the classes "
                                  f"{', '.join(map(str, self.classes_))}")
            weights[lookup[str(key)]] = float(value)
        return weights

    def predict_proba(self, X: Any) -> np.ndarray:
        logits = self._logits(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


class TransformerRegressor(RegressorMixin, _TransformerBase):
    """Fine-tunes a text encoder for regression (mean squared error on the standardised target)."""

    _regression = True

    def _prepare_targets(self, y: Any) -> tuple[np.ndarray, int]:
        y = np.asarray(y, dtype=np.float64)
        if not np.isfinite(y).all():
            raise DataError("the regression target has missing or infinite values")
        self.y_mean_ = float(y.mean())
        self.y_scale_ = float(y.std()) or 1.0
        return ((y - self.y_mean_) / self.y_scale_).astype(np.float32), 1

    def predict(self, X: Any) -> np.ndarray:
        return self._logits(X)[:, 0].astype(np.float64) * self.y_scale_ + self.y_mean_
