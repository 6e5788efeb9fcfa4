"""Catalogue (docs/bad-inputs.md): bad annotation tables of detection datasets, stopped at indexing."""

from __future__ import annotations

from conftest import manifest_dataset

HEADER = "filename\tonset\toffset\tevent_label\n"


def events_dataset(root, table: str):
    manifest_dataset(root, [{"path": f"audio/{i}.wav", "label": "a"} for i in range(4)])
    (root / "events.tsv").write_text(table)
    return root


def _fails(indexing, root) -> str:
    return indexing.fails("manifest", root, {"t": {"label": "events", "type": "detection"}},
                          events="events.tsv")


def test_events_bad_header(tmp_path, indexing):
    root = events_dataset(tmp_path / "ds", "file\tstart\tend\n")
    message = _fails(indexing, root)
    assert f"{root.resolve() / 'events.tsv'}, line 1: the header is" in message
    assert "fix the line" in message


def test_events_bad_times(tmp_path, indexing):
    root = events_dataset(tmp_path / "ds", HEADER + "audio/0.wav\t0.1\t0.5\tdog\n"
                          "audio/1.wav\t0.5\t0.2\tdog\n")
    message = _fails(indexing, root)
    assert "events.tsv, line 3: onset 0.5 and offset 0.2 need 0 <= onset < offset" in message


def test_events_not_a_number(tmp_path, indexing):
    root = events_dataset(tmp_path / "ds", HEADER + "audio/0.wav\tabc\t0.5\tdog\n")
    assert "events.tsv, line 2: onset 'abc' or offset '0.5' is not a number" in _fails(indexing, root)


def test_events_unknown_file(tmp_path, indexing):
    root = events_dataset(tmp_path / "ds", HEADER + "audio/9.wav\t0.1\t0.5\tdog\n")
    message = _fails(indexing, root)
    assert "events.tsv, line 2: 'audio/9.wav' is no audio file of datasets.d" in message


def test_events_missing_table(tmp_path, indexing):
    root = events_dataset(tmp_path / "ds", "")
    (root / "events.tsv").unlink()
    assert "events.tsv does not exist; check `events` of the dataset" in _fails(indexing, root)
