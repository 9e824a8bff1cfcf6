"""The speed benchmark's machine table: the fields printed beside every ratio."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import machine  # noqa: E402


def test_machine_table_has_the_fields_printed_beside_ratios():
    table = machine.machine_table(peak=123.4)
    assert set(table) == {
        "cpu",
        "vector_extensions",
        "cores",
        "torch_threads",
        "gemm_peak_gflops",
        "load_avg_1m",
    }
    assert table["cpu"] and table["cores"] >= 1 and table["torch_threads"] >= 1
    assert table["gemm_peak_gflops"] == 123.4
    assert set(table["vector_extensions"]) <= set(machine.VECTOR_FLAGS)


def test_vector_extensions_read_from_cpuinfo(monkeypatch):
    text = (
        "processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t\t: fpu sse4_2 avx2 avx512f amx_tile\n"
    )
    monkeypatch.setattr(machine, "_cpuinfo", lambda: text)
    assert machine.cpu_model() == "Test CPU 9000"
    assert machine.vector_extensions() == ["sse4_2", "avx2", "avx512f", "amx_tile"]


def test_ratio_table_puts_the_machine_beside_each_ratio():
    table = {
        "cpu": "Test CPU",
        "vector_extensions": ["avx2"],
        "cores": 2,
        "torch_threads": 2,
        "gemm_peak_gflops": 200.0,
        "load_avg_1m": 0.1,
    }
    lines = machine.ratio_table([("a / b", "2.00x"), ("c / d", "0.50x")], table)
    assert len(lines) == 4
    assert lines[2] == "| a / b | 2.00x | Test CPU | avx2 | 2/2 | 200 | 0.10 |"
    assert all(line.count("|") == lines[0].count("|") for line in lines)
