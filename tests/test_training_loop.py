"""The CTC training loop: a run stopped and resumed from its checkpoint goes on exactly where it stopped."""

import argparse
import dataclasses

import numpy as np
import pytest
import torch

from model.nets.crnn import CRNNConfig, build_crnn
from training.engine import LoopConfig, add_run_args, kept_mean, run_config, train_ctc

CFG = CRNNConfig(n_classes=11, height_px=32, width_px=64, channels=(4, 8, 8, 12), hidden=6)
VAL = (np.random.default_rng(9).normal(size=(8, 1, 32, 64)).astype(np.float32), [[1, 2]] * 8)


def _batches(rng: np.random.Generator, n: int) -> tuple[np.ndarray, list[list[int]]]:
    """Random strips and targets drawn from the loop's own generator, so a resume must restore it."""
    x = rng.normal(size=(n, 1, CFG.height_px, CFG.width_px)).astype(np.float32)
    return x, [list(rng.integers(1, CFG.n_classes, rng.integers(1, 4))) for _ in range(n)]


def _model() -> torch.nn.Module:
    torch.manual_seed(3)
    return build_crnn(CFG)


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


# a schedule of a million minutes: the cosine stays at 1, so the learning rate hangs on the step alone
LONG = LoopConfig(minutes=1e6, batch=4, lr=1e-2)


def test_stopped_and_resumed_run_matches_an_unbroken_one(tmp_path):
    whole = _model()
    train_ctc(whole, _batches, VAL, dataclasses.replace(LONG, max_steps=6))

    ckpt = tmp_path / "run" / "checkpoint.pt"
    first = _model()
    m1 = train_ctc(first, _batches, VAL, dataclasses.replace(LONG, max_steps=3, checkpoint=ckpt))
    assert ckpt.exists() and m1["steps"] == 3 and m1["finished"] is False
    second = _model()  # a fresh process: weights as at the start, the checkpoint brings them on
    m2 = train_ctc(second, _batches, VAL, dataclasses.replace(LONG, max_steps=6, checkpoint=ckpt, resume=True))
    assert m2["steps"] == 6
    for k, v in _state(whole).items():
        torch.testing.assert_close(second.state_dict()[k], v, atol=1e-6, rtol=1e-5, msg=k)
    start = _state(_model())
    assert any(not torch.equal(v, start[k]) for k, v in _state(first).items())  # the first sitting trained
    assert any(not torch.equal(v, _state(first)[k]) for k, v in _state(second).items())  # and so did the second


def test_bf16_run_follows_the_float32_one_and_hands_back_a_plain_model():
    start = {k: v.detach().clone() for k, v in _model().named_parameters()}
    plain, half = _model(), _model()
    train_ctc(plain, _batches, VAL, dataclasses.replace(LONG, max_steps=3))
    train_ctc(half, _batches, VAL, dataclasses.replace(LONG, max_steps=3, bf16=True))
    moved = [torch.cat([(dict(m.named_parameters())[k].detach() - v).flatten() for k, v in start.items()])
             for m in (plain, half)]  # the weights' steps (measured 0.98 alike)
    assert not torch.equal(moved[0], moved[1])  # the forward pass really ran in bfloat16
    assert torch.nn.functional.cosine_similarity(moved[0], moved[1], dim=0) > 0.9
    for name, v in half.state_dict().items():
        assert v.is_contiguous(), name  # trained channels-last, handed back laid out as usual
        assert not v.is_floating_point() or v.dtype == torch.float32, name


def test_bf16_option_reaches_the_loop_where_the_device_has_native_bfloat16(monkeypatch, caplog):
    """--bf16 reaches the loop on a device that computes in bfloat16; on a CPU that would only emulate it (where
    a step is many times slower) the run goes on in float32, with a warning."""
    from training import engine

    ap = argparse.ArgumentParser()
    add_run_args(ap)

    def config(*args: str) -> LoopConfig:
        return run_config(argparse.Namespace(minutes=1.0, lr=1e-3, **vars(ap.parse_args(list(args)))))

    monkeypatch.setattr(engine, "native_bf16", lambda device: True)
    assert config("--bf16").bf16 and not config().bf16
    monkeypatch.setattr(engine, "native_bf16", lambda device: device != "cpu")
    with caplog.at_level("WARNING"):
        assert not config("--bf16").bf16
    assert "--bf16 ignored" in caplog.text
    assert config("--bf16", "--device", "cuda").bf16
    assert engine.native_bf16("cuda") and isinstance(engine.native_bf16("cpu"), bool)


def test_loss_truncation_leaves_out_the_hardest_strips():
    """Without truncation the loss is nn.CTCLoss's batch mean (per character); with it the batch's hardest share is
    left out (at least one strip kept), and a run that drops half of each batch trains differently."""
    rng = np.random.default_rng(4)
    logp = torch.from_numpy(rng.normal(size=(12, 5, CFG.n_classes))).float().log_softmax(-1)
    targets = [[1, 2], [3], [4, 5, 6], [7], [8, 9]]
    lengths = torch.tensor([len(t) for t in targets])
    flat, frames = torch.tensor([c for t in targets for c in t]), torch.full((5,), 12)
    per = torch.nn.CTCLoss(reduction="none")(logp, flat, frames, lengths) / lengths
    assert kept_mean(per, 0.0) == pytest.approx(torch.nn.CTCLoss()(logp, flat, frames, lengths).item(), rel=1e-6)
    assert kept_mean(per, 0.4).item() == pytest.approx(per.sort().values[:3].mean().item())
    assert kept_mean(per, 0.99).item() == pytest.approx(per.min().item())
    whole, truncated = _model(), _model()
    train_ctc(whole, _batches, VAL, dataclasses.replace(LONG, max_steps=3))
    train_ctc(truncated, _batches, VAL, dataclasses.replace(LONG, max_steps=3, drop_hardest=0.5))
    assert any(not torch.equal(v, _state(whole)[k]) for k, v in _state(truncated).items())
    ap = argparse.ArgumentParser()
    add_run_args(ap)
    got = run_config(argparse.Namespace(minutes=1.0, lr=1e-3, **vars(ap.parse_args(["--drop-hardest", "0.2"]))))
    assert got.drop_hardest == 0.2


def test_schedule_runs_out_across_sittings(tmp_path):
    ckpt = tmp_path / "checkpoint.pt"
    cfg = LoopConfig(minutes=0.01, batch=2, lr=1e-3, checkpoint=ckpt)  # 0.6 s of training in all
    m1 = train_ctc(_model(), _batches, VAL, dataclasses.replace(cfg, stop_after=0.0))
    assert m1["steps"] == 0 and m1["finished"] is False and ckpt.exists()
    m2 = train_ctc(_model(), _batches, VAL, dataclasses.replace(cfg, resume=True))
    assert m2["finished"] is True and m2["steps"] > 0
    m3 = train_ctc(_model(), _batches, VAL, dataclasses.replace(cfg, resume=True))  # nothing left to train
    assert m3["steps"] == m2["steps"] and m3["finished"] is True


def test_checkpoint_is_never_overwritten_or_invented(tmp_path):
    ckpt = tmp_path / "checkpoint.pt"
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        train_ctc(_model(), _batches, VAL, dataclasses.replace(LONG, max_steps=1, checkpoint=ckpt, resume=True))
    train_ctc(_model(), _batches, VAL, dataclasses.replace(LONG, max_steps=1, checkpoint=ckpt))
    with pytest.raises(FileExistsError, match="resume from it or remove it"):
        train_ctc(_model(), _batches, VAL, dataclasses.replace(LONG, max_steps=1, checkpoint=ckpt))


def _shard(path, seed: int, count: int, monkeypatch, *extra: str) -> None:
    from training import make_strips

    monkeypatch.setattr("sys.argv", ["make_strips", "--seed", str(seed), "--count", str(count), "--size", "32",
                                     "128", *extra, "--out", str(path)])
    make_strips.main()


def test_recognizer_trainer_stops_exports_and_resumes(tmp_path, monkeypatch):
    """``--stop-after`` ends a sitting with a bundle of the weights so far; ``--resume`` goes on from the checkpoint
    to the end of the schedule."""
    import json

    from training import recognizer

    shard, ckpt = tmp_path / "s.npz", tmp_path / "ck" / "checkpoint.pt"
    _shard(shard, 4, 4, monkeypatch)
    run = ["recognizer", "--shards", str(shard), "--size", "32", "128", "--val", "1", "--threads", "1",
           "--channels", "4", "8", "8", "12", "--hidden", "6", "--minutes", "0.01", "--checkpoint", str(ckpt)]
    monkeypatch.setattr("sys.argv", [*run, "--stop-after", "0", "--out", str(tmp_path / "b1")])
    recognizer.main()
    first = json.loads((tmp_path / "b1" / "manifest.json").read_text())["metrics"]
    assert first["steps"] == 0 and first["finished"] is False and (tmp_path / "b1" / "model.onnx").exists()
    monkeypatch.setattr("sys.argv", [*run, "--out", str(tmp_path / "b2")])
    with pytest.raises(FileExistsError):  # a second run may not overwrite the first one's state
        recognizer.main()
    monkeypatch.setattr("sys.argv", [*run, "--resume", "--out", str(tmp_path / "b2")])
    recognizer.main()
    second = json.loads((tmp_path / "b2" / "manifest.json").read_text())["metrics"]
    assert second["steps"] > 0 and second["finished"] is True


def test_watched_strips_grow_as_shards_land(tmp_path, monkeypatch):
    """Shards written into the watched folder join the training strips; one of another band is refused."""
    from model.rectify.polar import Band
    from training.recognizer import StripSet, load_shards, watched_loader
    from training.watch import WatchedShards

    cfg = CRNNConfig(n_classes=11, height_px=32, width_px=128)
    folder = tmp_path / "chunks"
    folder.mkdir()
    empty = StripSet(np.empty((0, 1, 32, 128), np.float16), [], [])
    pool = WatchedShards(empty, folder, watched_loader(cfg, Band(height_px=32, width_px=128)), min_strips=5,
                         poll_s=0.0, max_wait_s=0.2)
    with pytest.raises(TimeoutError, match="no new shard"):  # no renderer: the run gives up, it does not hang
        pool.batches(np.random.default_rng(0), 4)
    _shard(folder / "a.npz", 5, 3, monkeypatch)
    assert not list(folder.glob("*.tmp")) and pool.poll() == 1 and len(pool) == 3
    _shard(folder / "b.npz", 6, 4, monkeypatch)
    x, ys = pool.batches(np.random.default_rng(0), 16)  # polls again: 7 strips now, enough to start
    assert len(pool) == 7 and x.shape == (16, 1, 32, 128) and x.dtype == np.float32 and len(ys) == 16
    own, _ = load_shards([folder / "a.npz", folder / "b.npz"], cfg)
    lengths = {len(t) for t in own.targets()}  # rolled or turned, a strip's target keeps its length
    assert all(len(y) in lengths for y in ys)
    assert pool.poll() == 0  # nothing new, nothing loaded twice
    _shard(folder / "c.npz", 7, 2, monkeypatch, "--outer", "1.02")
    with pytest.raises(SystemExit, match="another band"):
        pool.poll()


def test_recognizer_trains_on_watched_shards(tmp_path, monkeypatch):
    """``--watch``: the run holds out the given shard and trains on what lands in the folder."""
    import json

    from training import recognizer

    val, folder = tmp_path / "val.npz", tmp_path / "chunks"
    _shard(val, 4, 2, monkeypatch)
    folder.mkdir()
    _shard(folder / "c1.npz", 8, 6, monkeypatch)
    monkeypatch.setattr("sys.argv", [
        "recognizer", "--shards", str(val), "--val", "2", "--watch", str(folder), "--watch-min", "4", "--batch", "4",
        "--size", "32", "128", "--threads", "1", "--channels", "4", "8", "8", "12", "--hidden", "6", "--minutes",
        "0.01", "--device", "cpu", "--out", str(tmp_path / "b")])
    recognizer.main()
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["data"]["watched_n"] == 6 and manifest["data"]["train_n"] == 0
    assert manifest["metrics"]["steps"] > 0 and manifest["metrics"]["val_n"] == 2


def test_lot_lines_load_as_float16_and_turn_with_empty_targets(tmp_path, lot_lines):
    """A lines shard lands whole (no temporary left) and loads as the network's input, held as float16; with
    ``turned`` 1 every strip of a batch comes upside down with an empty target."""
    from model.charset import encode_line
    from model.recognition.preprocess import strips_to_input
    from training.lot_recognizer import LineSet, load_lines

    shard = lot_lines(tmp_path / "c1", "--seed", "3", "--count", "1")
    assert [p.name for p in (tmp_path / "c1").iterdir()] == ["lines.npz"]
    cfg = CRNNConfig(n_classes=76, height_px=32, width_px=320)
    lines = load_lines([tmp_path / "c1" / "lines.npz"], cfg, turned=1.0)
    want = strips_to_input(list(shard["pixels"]), height_px=32, width_px=320)
    texts = [str(t) for t in shard["texts"]]
    assert lines.x.dtype == np.float16 and len(lines) == len(texts) > 0
    assert np.allclose(lines.x.astype(np.float32), want, atol=1e-2)
    assert lines.targets == [encode_line(t) for t in texts]
    one = LineSet(lines.x[:1], lines.targets[:1], turned=1.0)
    x, ys = one.batches(np.random.default_rng(0), 3)
    assert x.dtype == np.float32 and ys == [[]] * 3
    assert all(np.array_equal(s, lines.x[0, :, ::-1, ::-1].astype(np.float32)) for s in x)
    x, ys = dataclasses.replace(one, turned=0.0).batches(np.random.default_rng(0), 2)
    assert ys == [lines.targets[0]] * 2 and np.array_equal(x[0], lines.x[0].astype(np.float32))


def test_lot_recognizer_trains_on_watched_lines(tmp_path, monkeypatch, lot_lines):
    """``--watch``: the lot trainer holds out the given lines and trains on the DIR/*/lines.npz that land."""
    import json

    from training import lot_recognizer

    held = len(lot_lines(tmp_path / "val", "--seed", "4", "--count", "1")["texts"])
    folder = tmp_path / "chunks"
    landed = sum(len(lot_lines(folder / f"c{seed}", "--seed", str(seed), "--count", "1")["texts"]) for seed in (5, 6))
    monkeypatch.setattr("sys.argv", [
        "lot_recognizer", "--shards", str(tmp_path / "val" / "lines.npz"), "--val", str(held), "--watch",
        str(folder), "--watch-min", "4", "--batch", "4", "--threads", "1", "--turned", "0.15", "--channels", "4",
        "8", "8", "12", "--hidden", "6", "--minutes", "0.01", "--device", "cpu", "--out", str(tmp_path / "b")])
    lot_recognizer.main()
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["data"]["watched_n"] == landed and manifest["data"]["train_n"] == 0
    assert manifest["metrics"]["steps"] > 0 and manifest["metrics"]["val_n"] == held


def test_masks_are_cut_and_turned_with_their_strips():
    """A strip's mask is rolled into a gap and turned 180 degrees exactly as the strip is, and pooled to the
    network's third block (H/8 x W/4)."""
    from training.recognizer import StripSet

    h, w = 32, 128
    x = np.zeros((3, 1, h, w), np.float16)
    masks = np.zeros((3, h // 4, w // 4), np.uint8)
    spans = []
    for k, (a, b) in enumerate([(8, 24), (40, 72), (96, 112)]):  # one marked segment per strip, two others
        x[k, 0, 12:20, a:b] = 1.0
        masks[k, 3:5, a // 4:b // 4] = 255
        spans.append([(8.0, 24.0), (40.0, 72.0), (96.0, 112.0)])
    data = StripSet(x, [[("1", False), ("2", False), ("3", False)]] * 3, spans, masks, np.array([True, True, False]))
    xb, yb, mb, known = data.batches(np.random.default_rng(5), 24)
    assert mb.shape == (24, h // 8, w // 4) and mb.dtype == np.float32 and known.dtype == bool
    assert 0 < known.sum() < 24
    for strip, mask in zip(xb[:, 0], mb):
        marked = strip.reshape(h // 8, 8, w // 4, 4).mean(axis=(1, 3)) > 0  # the strip's bright block, pooled
        assert np.array_equal(marked, mask > 0)


def test_training_only_mask_head_learns_and_leaves_a_plain_crnn():
    """The auxiliary head returns mask logits at the third block while training, nothing in eval mode; a run
    with ``aux_weight`` fits masks and keeps the CRNN's own parameters and outputs as they were named."""
    from training.aux import StampMaskHead, stamp_mask_loss

    crnn = _model()
    model = StampMaskHead(crnn)
    x = torch.from_numpy(VAL[0][:2])
    logits, mask = model.train()(x)
    assert logits.shape == (2, CFG.width_px // 4, CFG.n_classes) and mask.shape == (2, CFG.height_px // 8,
                                                                                      CFG.width_px // 4)
    assert torch.equal(model.eval()(x), crnn.eval()(x))
    assert float(stamp_mask_loss(mask.detach(), np.ones((2, 4, 16), np.float32), np.array([False, False]))) == 0.0
    deep = StampMaskHead(build_crnn(dataclasses.replace(CFG, channels=(4, 6, 10, 12), res_blocks=(1, 1, 2, 1),
                                                        rnn_layers=2)))
    assert deep.mask.in_channels == 10  # the third block's end, past its residual blocks
    assert deep.train()(x)[1].shape == mask.shape

    def batches(rng, n):  # a bright block somewhere in each strip; the mask says where
        xb = rng.normal(0, 0.3, (n, 1, CFG.height_px, CFG.width_px)).astype(np.float32)
        masks = np.zeros((n, CFG.height_px // 8, CFG.width_px // 4), np.float32)
        for k, at in enumerate(rng.integers(0, CFG.width_px // 4 - 4, n)):
            xb[k, 0, 8:24, 4 * at:4 * at + 16] += 2.0
            masks[k, 1:3, at:at + 4] = 1.0
        return xb, [[1, 2]] * n, masks, np.ones(n, bool)

    def mask_loss() -> float:
        xb, _, masks, known = batches(np.random.default_rng(99), 16)
        model.train()
        with torch.no_grad():
            return float(stamp_mask_loss(model(torch.from_numpy(xb))[1], masks, known))

    before = mask_loss()
    train_ctc(model, batches, VAL, dataclasses.replace(LONG, max_steps=150, aux_weight=5.0))
    assert mask_loss() < 0.6 * before
    assert set(crnn.state_dict()) == set(_model().state_dict())  # the CRNN itself gained no parameters


def test_recognizer_trainer_takes_masks_only_from_shards_that_have_them(tmp_path, monkeypatch):
    """``--aux-weight`` trains on shards with masks and exports the plain network; without masks it refuses."""
    import json

    from training import recognizer

    shard = tmp_path / "s.npz"
    _shard(shard, 4, 4, monkeypatch)
    run = ["recognizer", "--shards", str(shard), "--size", "32", "128", "--val", "1", "--threads", "1", "--batch",
           "2", "--channels", "4", "8", "8", "12", "--hidden", "6", "--minutes", "0.02", "--aux-weight", "1"]
    monkeypatch.setattr("sys.argv", [*run, "--out", str(tmp_path / "b")])
    recognizer.main()
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["metrics"]["steps"] > 0
    state = torch.load(tmp_path / "b" / "weights.pt", weights_only=True)
    assert not any(k.startswith("mask") or k.startswith("crnn.") for k in state)
    with np.load(shard) as d:  # the same strips without their masks
        np.savez(tmp_path / "bare.npz", **{k: d[k] for k in d.files if k != "masks"})
    monkeypatch.setattr("sys.argv", [*run[:2], str(tmp_path / "bare.npz"), *run[3:], "--out", str(tmp_path / "c")])
    with pytest.raises(SystemExit, match="masks"):
        recognizer.main()
