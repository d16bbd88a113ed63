"""A small PyTorch autoencoder for anomaly scores: an MLP squeezes each row through a narrow layer and rebuilds
it; rows it rebuilds badly (a high reconstruction error) are unusual.

torch is imported inside ``fit`` (the ``text`` extra installs it), never when this module is imported. Training
stops early: a seeded tenth of the rows is held out, and the weights of the epoch with the lowest held-out
error are kept once ``patience`` epochs pass without a lower one.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils.validation import check_is_fitted


class Autoencoder(OutlierMixin, BaseEstimator):
    """MLP autoencoder (features -> hidden -> bottleneck -> hidden -> features); score = mean squared error."""

    def __init__(self, hidden: int | None = None, bottleneck: int | None = None, epochs: int = 200,
                 batch_size: int = 128, learning_rate: float = 1e-3, patience: int = 10,
                 validation: float = 0.1, weight_decay: float = 1e-5, threads: int = 1, random_state: int = 0):
        self.hidden = hidden
        self.bottleneck = bottleneck
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.patience = patience
        self.validation = validation
        self.weight_decay = weight_decay
        self.threads = threads
        self.random_state = random_state

    def _network(self, torch, d: int):
        hidden = self.hidden or max(8, min(64, d))
        bottleneck = self.bottleneck or max(1, min(8, d // 8))
        nn = torch.nn
        return nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, bottleneck), nn.ReLU(),
                             nn.Linear(bottleneck, hidden), nn.ReLU(), nn.Linear(hidden, d))

    def fit(self, X, y=None):
        import torch

        from mlcli.models.params import check_values

        check_values("autoencoder", type(self), self.get_params(deep=False))
        torch.set_num_threads(max(1, int(self.threads)))
        torch.manual_seed(self.random_state)
        X = np.asarray(X, dtype=np.float32)
        rng = np.random.default_rng(self.random_state)
        order = rng.permutation(len(X))
        n_val = max(1, int(round(len(X) * self.validation))) if len(X) >= 20 else 0
        val, train = X[order[:n_val]], X[order[n_val:]]
        net = self._network(torch, X.shape[1])
        opt = torch.optim.Adam(net.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        xt, xv = torch.from_numpy(train), torch.from_numpy(val if n_val else train)
        best, best_state, waited, self.history_ = np.inf, None, 0, []
        gen = torch.Generator().manual_seed(self.random_state)
        for _epoch in range(self.epochs):
            net.train()
            for idx in torch.randperm(len(xt), generator=gen).split(self.batch_size):
                opt.zero_grad()
                loss = ((net(xt[idx]) - xt[idx]) ** 2).mean()
                loss.backward()
                opt.step()
            net.eval()
            with torch.inference_mode():
                held = float(((net(xv) - xv) ** 2).mean())
            self.history_.append(round(held, 6))
            if held < best - 1e-7:
                best, waited = held, 0
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                waited += 1
                if waited >= self.patience:
                    break
        net.load_state_dict(best_state)
        self.network_, self.best_epoch_, self.n_epochs_ = net, int(np.argmin(self.history_)) + 1, len(self.history_)
        self.validation_loss_ = best
        self.n_features_in_ = X.shape[1]
        return self

    def score_samples(self, X) -> np.ndarray:
        """Reconstruction error per row (higher: more unusual; the opposite sign of scikit-learn's detectors)."""
        import torch

        check_is_fitted(self, "network_")
        x = torch.from_numpy(np.asarray(X, dtype=np.float32))
        with torch.inference_mode():
            return ((self.network_(x) - x) ** 2).mean(dim=1).numpy().astype(np.float64)
