"""The fine-tuning loop of the transformer estimators: AdamW with linear warm-up and decay, length-bucketed
batches, mixed precision on a GPU, gradient clipping, and early stopping on a validation split."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlcli.text import runtime as rt


@dataclass
class FineTuning:
    """One fine-tuning run: what the loop needs, and what it leaves (the history, the best weights)."""

    torch: Any
    model: Any
    device: Any
    ids: list  # token ids per row
    target: Any  # a torch tensor of targets (float for regression, long for classes)
    train_idx: np.ndarray
    val_idx: np.ndarray
    loss_fn: Any
    pad: int
    regression: bool
    history: list[dict[str, Any]] = field(default_factory=list)
    best_state: dict[str, Any] | None = None

    def optimizer(self, param_groups: list[dict[str, Any]], learning_rate: float, total: int,
                  warmup: int) -> tuple[Any, Any, Any]:
        """(AdamW, its linear warm-up-then-decay schedule, a gradient scaler on CUDA else None)."""
        torch = self.torch
        optimizer = torch.optim.AdamW(param_groups, lr=float(learning_rate))
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: (s + 1) / max(1, warmup) if s < warmup else
            max(0.0, (total - s) / max(1, total - warmup)))
        scaler = torch.amp.GradScaler("cuda") if rt.needs_grad_scaler(torch, self.device) else None
        return optimizer, scheduler, scaler

    def run(self, epochs: int, batch_size: int, patience: int, learning_rate: float, warmup: float,
            param_groups: list[dict[str, Any]], rng: np.random.RandomState, progress: Any,
            validation_loss: Any) -> None:
        """Train for ``epochs`` (fewer when the validation loss stops falling for ``patience`` epochs)."""
        total = math.ceil(len(self.train_idx) / batch_size) * epochs
        steps = int(warmup * total) if warmup < 1 else int(warmup)
        optimizer, scheduler, scaler = self.optimizer(param_groups, learning_rate, total, steps)
        lengths = np.array([len(x) for x in self.ids])
        best_loss, bad_epochs, running = math.inf, 0, None
        for epoch in range(epochs):
            self.model.train()
            epoch_loss, n_seen = 0.0, 0
            for batch in rt.bucketed_batches(lengths[self.train_idx], batch_size, rng):
                rows = self.train_idx[batch]
                value = self._step(rows, optimizer, scheduler, scaler)
                epoch_loss += value * len(rows)
                n_seen += len(rows)
                running = value if running is None else 0.9 * running + 0.1 * value
                progress.update(1, epoch=f"{epoch + 1}/{epochs}", loss=running)
            record: dict[str, Any] = {"epoch": epoch + 1, "train_loss": round(epoch_loss / max(n_seen, 1), 6)}
            if len(self.val_idx):
                val_loss = validation_loss()
                record["val_loss"] = round(val_loss, 6)
                progress.fields["val_loss"] = val_loss
                if val_loss < best_loss - 1e-6:
                    best_loss, bad_epochs = val_loss, 0
                    self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
                else:
                    bad_epochs += 1
            self.history.append(record)
            if len(self.val_idx) and bad_epochs >= patience:
                progress.total = progress.done  # stopped early: the bar is complete
                break

    def _step(self, rows: np.ndarray, optimizer: Any, scheduler: Any, scaler: Any) -> float:
        """One optimisation step on a batch of rows; returns its loss."""
        torch = self.torch
        input_ids, mask = rt.collate(torch, [self.ids[i] for i in rows], self.pad, self.device)
        with rt.autocast(torch, self.device):
            logits = self.model(input_ids=input_ids, attention_mask=mask).logits
        out = logits.float().squeeze(-1) if self.regression else logits.float()
        loss = self.loss_fn(out, self.target[rows].to(self.device))
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())
