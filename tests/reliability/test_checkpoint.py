"""`RunCheckpoint`: round trip, atomic writes, and refusing foreign or corrupt ones."""

import json

import keras
import numpy as np
import pytest

from dfcnn_tf.errors import CheckpointError
from dfcnn_tf.registry import build_model
from dfcnn_tf.training import make_optimizer
from dfcnn_tf.training.checkpoint import Position, Resume, RunCheckpoint
from dfcnn_tf.training.model_state import model_variables

from .tiny import INPUT_SHAPE, tiny_experiment

ROWS = [
    {"task": 0, "split": "test", "accuracy": np.float64(1 / 3), "time": 0.5},
    {"task": 1, "split": "valid", "accuracy": 0.25, "time": 1.5},
]
ROWS[0]["scope"], ROWS[1]["scope"] = "current", "all"


def build(seed=0, name="dfcnn", tasks=2, **model_changes):
    keras.utils.set_random_seed(seed)
    config = tiny_experiment(name).model
    config = type(config)(**{**config.__dict__, **model_changes})
    model = build_model(config, INPUT_SHAPE)
    for _ in range(tasks):
        model.add_task(3)
    return model


def trained_state(tmp_path, epoch=4):
    """A model with random values, a built optimizer, saved at `epoch`."""
    model = build(seed=0)
    rng = np.random.default_rng(3)
    for variable in model_variables(model).values():
        if variable.dtype == "float32":
            variable.assign(rng.normal(size=variable.shape).astype("float32"))
    optimizer = make_optimizer(tiny_experiment().train)
    optimizer.build(model.training_variables(1))
    optimizer.variables[-1].assign(np.full(optimizer.variables[-1].shape, 7.0))
    generator = np.random.default_rng(11)
    generator.permutation(10)
    checkpoint = RunCheckpoint(tmp_path / "ckpt", "abc", every=2)
    assert checkpoint.open() is None
    resume = Resume(Position(1, 1, epoch), ROWS, 12.5, generator.bit_generator.state)
    checkpoint.save(model, [optimizer], resume)
    return model, optimizer, generator


def values(model):
    return {k: np.array(v.numpy()) for k, v in model_variables(model).items()}


def reopen(tmp_path, config_hash="abc"):
    checkpoint = RunCheckpoint(tmp_path / "ckpt", config_hash)
    return checkpoint, checkpoint.open()


def one_line_error(function, *args):
    with pytest.raises(CheckpointError) as info:
        function(*args)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_round_trip_restores_model_optimizer_rng_and_rows(tmp_path):
    model, optimizer, generator = trained_state(tmp_path)
    checkpoint, resume = reopen(tmp_path)
    assert resume.position == Position(1, 1, 4)
    assert resume.rows == ROWS and resume.elapsed == 12.5
    restored = build(seed=5, tasks=0)  # other initial values
    checkpoint.restore_model(restored, lambda task_id: restored.add_task(3))
    assert restored.num_tasks == 2
    expected, got = values(model), values(restored)
    assert expected.keys() == got.keys()
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)
    fresh = make_optimizer(tiny_experiment().train)
    fresh.build(restored.training_variables(1))
    checkpoint.restore_optimizers([fresh])
    for saved, loaded in zip(optimizer.variables, fresh.variables, strict=True):
        np.testing.assert_array_equal(loaded.numpy(), saved.numpy())
    again = np.random.default_rng(0)
    again.bit_generator.state = resume.rng
    assert again.permutation(10).tolist() == generator.permutation(10).tolist()


def test_due_every_k_epochs():
    checkpoint = RunCheckpoint("unused", "abc", every=3)
    assert [e for e in range(1, 10) if checkpoint.due(e)] == [3, 6, 9]
    assert not any(RunCheckpoint("unused", "abc").due(e) for e in range(1, 10))


def test_the_folder_records_its_configuration(tmp_path):
    RunCheckpoint(tmp_path / "ckpt", "abc").open()
    record = json.loads((tmp_path / "ckpt" / "run.json").read_text())
    assert record["config_hash"] == "abc"


def test_another_configuration_is_refused(tmp_path):
    trained_state(tmp_path)
    checkpoint = RunCheckpoint(tmp_path / "ckpt", "other")
    message = one_line_error(checkpoint.open)
    assert "another configuration" in message
    assert "abc" in message and "other" in message
    assert str(tmp_path / "ckpt") in message


def test_checkpoints_without_a_record_are_refused(tmp_path):
    trained_state(tmp_path)
    (tmp_path / "ckpt" / "run.json").unlink()
    message = one_line_error(RunCheckpoint(tmp_path / "ckpt", "abc").open)
    assert "without the record of their configuration" in message


def test_corrupt_data_file_is_refused(tmp_path):
    trained_state(tmp_path)
    [data] = (tmp_path / "ckpt").glob("ckpt-4.data-*")
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2 :] = bytes(len(raw) - len(raw) // 2)  # zero the second half
    data.write_bytes(bytes(raw))
    message = one_line_error(RunCheckpoint(tmp_path / "ckpt", "abc").open)
    assert "unreadable" in message and "ckpt-4" in message


@pytest.mark.parametrize("part", ["index", "data"])
def test_truncated_files_are_refused(tmp_path, part):
    trained_state(tmp_path)
    [path] = (tmp_path / "ckpt").glob(f"ckpt-4.{part}*")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    one_line_error(RunCheckpoint(tmp_path / "ckpt", "abc").open)


def test_index_naming_a_missing_checkpoint_is_refused(tmp_path):
    trained_state(tmp_path)
    for path in (tmp_path / "ckpt").glob("ckpt-4.*"):
        path.unlink()
    one_line_error(RunCheckpoint(tmp_path / "ckpt", "abc").open)


def test_a_half_written_newer_checkpoint_is_ignored(tmp_path):
    """A write killed before the index moved on leaves files the index does
    not name (and TensorFlow's `_temp` folder): the last complete one is used."""
    trained_state(tmp_path, epoch=4)
    folder = tmp_path / "ckpt"
    (folder / "ckpt-6.index").write_bytes(b"\x00garbage")
    (folder / "ckpt-6.data-00000-of-00001").write_bytes(b"half")
    (folder / "ckpt-6_temp").mkdir()
    (folder / "ckpt-6_temp" / "part-00000-of-00001.data-00000-of-00001").touch()
    _, resume = reopen(tmp_path)
    assert resume.position.epoch == 4
    assert not (folder / "ckpt-6_temp").exists()


def test_keeps_only_the_latest_checkpoint(tmp_path):
    model, optimizer, _ = trained_state(tmp_path, epoch=4)
    checkpoint, _ = reopen(tmp_path)
    checkpoint.save(model, [], Resume(Position(2, 0, 6), ROWS, 1.0, {}))
    names = sorted(p.name for p in (tmp_path / "ckpt").glob("ckpt-*.index"))
    assert names == ["ckpt-6.index"]
    assert reopen(tmp_path)[1].position == Position(2, 0, 6)


def test_other_model_variables_are_refused(tmp_path):
    trained_state(tmp_path)
    checkpoint, _ = reopen(tmp_path)
    other = build(tasks=0, fc_hidden=(5,))
    message = one_line_error(
        checkpoint.restore_model, other, lambda task_id: other.add_task(3)
    )
    assert "do not match" in message and "task0-" in message


def test_other_optimizer_state_is_refused(tmp_path):
    model, _, _ = trained_state(tmp_path)
    checkpoint, _ = reopen(tmp_path)
    optimizer = make_optimizer(tiny_experiment().train)
    optimizer.build(model.task_variables(1))  # fewer variables than saved
    message = one_line_error(checkpoint.restore_optimizers, [optimizer])
    assert "optimizer variables do not match" in message


def test_remove_deletes_the_folder(tmp_path):
    trained_state(tmp_path)
    RunCheckpoint(tmp_path / "ckpt", "abc").remove()
    assert not (tmp_path / "ckpt").exists()
