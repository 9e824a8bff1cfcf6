import torch

from aedetect.models import DenseAutoencoder
from aedetect.runtime import cpu_threads, denormals_flushed, flushed_denormals
from aedetect.training import FusedAdam, TrainConfig, make_optimizer, train


def test_flush_denormal_is_restored():
    torch.set_flush_denormal(False)
    with flushed_denormals():
        assert denormals_flushed()
    assert not denormals_flushed()


def test_thread_count_is_restored():
    before = torch.get_num_threads()
    with cpu_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_a_lower_user_thread_setting_is_kept():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with cpu_threads():
            assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def _data(n=256, d=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 2, generator=g)
    return z @ torch.randn(2, d, generator=g)


def test_loss_goes_down_and_history_has_every_epoch():
    X = _data()
    torch.manual_seed(0)
    module = DenseAutoencoder(10, (8, 2))
    cfg = TrainConfig(epochs=60, batch_size=32, lr=1e-2)
    hist = train(module, X, torch.nn.functional.mse_loss, cfg)
    assert len(hist.train_loss) == 60
    assert hist.train_loss[-1] < 0.5 * hist.train_loss[0]


def test_early_stopping_restores_best_weights():
    X, X_val = _data(seed=0), _data(n=64, seed=1) * 50  # validation unlike training: gets worse
    torch.manual_seed(0)
    module = DenseAutoencoder(10, (8, 2))
    cfg = TrainConfig(epochs=200, batch_size=32, lr=1e-2, patience=3)
    hist = train(module, X, torch.nn.functional.mse_loss, cfg, X_val=X_val)
    best = min(hist.val_loss)
    assert hist.val_loss[hist.best_epoch - 1] == best
    with torch.no_grad():
        restored = torch.nn.functional.mse_loss(module(X_val), X_val).item()
    assert abs(restored - best) <= 1e-4 * max(1.0, best)


def test_callback_sees_every_epoch():
    seen = []
    torch.manual_seed(0)
    train(
        DenseAutoencoder(10, (4,)),
        _data(),
        torch.nn.functional.mse_loss,
        TrainConfig(epochs=3),
        on_epoch=lambda e, t, v: seen.append((e, v)),
    )
    assert seen == [(1, None), (2, None), (3, None)]


def _adam_steps(make_opt, weight_decay):
    torch.manual_seed(0)
    module = DenseAutoencoder(10, hidden=(6, 3))
    unused = torch.nn.Parameter(torch.ones(4))  # never gets a gradient: skipped
    params = [*module.parameters(), unused]
    opt = make_opt(params, weight_decay)
    X = _data()
    for start in range(0, 256, 32):
        xb = X[start : start + 32]
        loss = torch.nn.functional.mse_loss(module(xb), xb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return [p.detach().clone() for p in params]


def test_fused_adam_gives_torch_adams_weights_exactly():
    for wd in (0.0, 1e-2):
        ours = _adam_steps(lambda ps, wd: FusedAdam(ps, lr=3e-3, weight_decay=wd), wd)
        theirs = _adam_steps(
            lambda ps, wd: torch.optim.Adam(ps, lr=3e-3, weight_decay=wd, fused=True), wd
        )
        assert all(torch.equal(a, b) for a, b in zip(ours, theirs, strict=True))
        assert torch.equal(ours[-1], torch.ones(4))
    cpu = make_optimizer(
        "adam", list(DenseAutoencoder(4).parameters()), 1e-3, 0.0, torch.device("cpu")
    )
    assert isinstance(cpu, FusedAdam)
