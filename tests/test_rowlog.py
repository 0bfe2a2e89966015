"""The results tables of resumable jobs: a file two writers (or a kill) damaged is read back
de-duplicated and repaired, so the job resumes; a file that is not a table is one line naming it."""

from __future__ import annotations

import pytest

from mro_core.rowlog import RowLog, RowLogError, pending, read_rows


def key(r):
    return (r["method"], int(r["seed"]))


HEADER = "method,seed,pick,test_mae\n"


def test_a_doubled_header_and_doubled_rows_read_once_and_are_repaired(tmp_path):
    p = tmp_path / "study_x_runs.csv"
    # what two `mro study --name x` at once left: a second header mid-file and every row twice
    p.write_text(HEADER + "full,0,011011,0.5\n" + HEADER + "full,0,011011,0.5\nuniform,0,111111,0.7\n"
                 "uniform,0,111111,0.7\n")
    rows = read_rows(p, key)
    assert [(r["method"], r["seed"]) for r in rows] == [("full", 0), ("uniform", 0)]
    assert rows[0]["pick"] == "011011" and rows[0]["test_mae"] == 0.5
    assert pending(p, [("full", 0), ("full", 1), ("uniform", 0)], key) == [("full", 1)]
    with RowLog(p, key) as log:  # opening for append rewrites the table clean first
        log.write({"method": "full", "seed": 1, "pick": "000011", "test_mae": 0.6})
    assert p.read_text() == HEADER + "full,0,011011,0.5\nuniform,0,111111,0.7\nfull,1,000011,0.6\n"


def test_a_torn_last_line_is_dropped_and_the_next_row_starts_on_its_own_line(tmp_path):
    p = tmp_path / "gt.csv"
    p.write_text(HEADER + "full,0,011011,0.5\nfull,1,01")  # killed mid-write
    assert [r["seed"] for r in read_rows(p, key)] == [0]
    with RowLog(p, key) as log:
        log.write({"method": "full", "seed": 1, "pick": "010000", "test_mae": 0.9})
    assert [(r["seed"], r["pick"]) for r in read_rows(p, key)] == [(0, "011011"), (1, "010000")]


@pytest.mark.parametrize("content, match", [
    (b"\xfd\x00garbage\xff" * 10, r"garbage\.csv is not a results table \(not UTF-8 text: byte 0xfd at offset 0\)"),
    (b"a,b\n1,2\n", r"garbage\.csv is not this job's results table \(no column 'method'\)"),
    (HEADER.encode() + b"full,zero,011011,0.5\n", r"garbage\.csv, line 2: unreadable key"),
])
def test_a_file_that_is_not_the_table_is_one_line_naming_it(tmp_path, content, match):
    p = tmp_path / "garbage.csv"
    p.write_bytes(content)
    with pytest.raises(RowLogError, match=match) as e:
        pending(p, [("full", 0)], key)
    assert "\n" not in str(e.value) and "another output path" in str(e.value)
    assert p.read_bytes() == content  # never rewritten
