"""Which earlier reports a partial run keeps, which it removes, and the words for why (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

from rfd_lib.pipeline.partial import Basis, plan_merge

BASIS = Basis(
    quarter="2026/27 Q2",
    disclosure="circulation",
    rule_sha256="r" * 64,
    inputs=(("ZF6.csv", "a" * 64), ("ZK1.csv", "b" * 64), ("expectations.yaml", "c" * 64)),
)


def line(code: str, html: str | None = None) -> dict:
    return {
        "provider_code": code,
        "provider_name": f"Provider {code}",
        "html": html or f"{code}.html",
        "pdf": None,
        "headline": [["counted RFDs", "15"]],
        "statuses": [["prior block", "red"]],
        "failed": None,
        "made_on": None,
        "run_date": "3 May 2026",
    }


def folder(tmp_path: Path, basis: Basis | None, codes=("ZF6", "ZK1"), **record) -> Path:
    (tmp_path / "internal").mkdir(parents=True)
    for name in [*(f"{code}.html" for code in codes), "summary.html"]:
        (tmp_path / name).write_text("<html></html>")
    data = {
        "params": {"name": "q2"},
        "basis": basis.record() if basis else None,
        "run_date": "3 May 2026",
        "index": [line(code) for code in codes],
        "summary": {"html": "summary.html", "pdf": None, "run_date": "3 May 2026"},
        **record,
    }
    (tmp_path / "internal" / "run.json").write_text(json.dumps(data))
    return tmp_path


def test_the_same_basis_keeps_the_others_and_the_summary(tmp_path):
    output = folder(tmp_path, BASIS)
    merge = plan_merge(output, BASIS, ["ZK1"], ["ZF6", "ZK1"])
    assert merge.kept_codes == ("ZF6",) and merge.summary is not None and merge.dropped == ()
    assert merge.kept[0].entry.headline == (("counted RFDs", "15"),)
    assert merge.kept[0].entry.made_on == "3 May 2026"
    assert merge.remove == (output / "ZK1.html",), "the report this run remakes goes; the kept stay"


def test_a_run_of_every_provider_remakes_the_summary_too(tmp_path):
    merge = plan_merge(folder(tmp_path, BASIS), BASIS, ["ZF6", "ZK1"], ["ZF6", "ZK1"])
    assert merge.kept == () and merge.summary is None
    assert set(merge.remove) == {tmp_path / "ZF6.html", tmp_path / "ZK1.html", tmp_path / "summary.html"}


def test_other_inputs_remove_every_earlier_report_and_say_what_changed(tmp_path):
    now = Basis(
        "2026/27 Q2",
        "internal",
        BASIS.rule_sha256,
        (
            ("ZF6.csv", "a" * 64),
            ("ZK1.csv", "b" * 64),
            ("expectations.yaml", "d" * 64),
            ("ZQ9.csv", "e" * 64),
        ),
    )
    merge = plan_merge(folder(tmp_path, BASIS), now, ["ZK1"], ["ZF6", "ZK1"])
    assert merge.kept == () and merge.summary is None
    assert merge.dropped == (
        "ZF6: its report of the run of 3 May 2026 was removed: that run was made in circulation mode; "
        "expectations.yaml has changed; ZQ9.csv was not read then.",
    )
    assert tmp_path / "ZF6.html" in merge.remove and tmp_path / "summary.html" in merge.remove


def test_a_database_run_never_keeps_a_report(tmp_path):
    database = Basis(BASIS.quarter, BASIS.disclosure, BASIS.rule_sha256, BASIS.inputs, database=True)
    merge = plan_merge(folder(tmp_path, database), database, ["ZK1"], ["ZF6", "ZK1"])
    assert merge.kept == () and "whose rows may have changed" in merge.dropped[0]


def test_a_missing_report_file_or_an_unrecorded_run_is_not_kept(tmp_path):
    output = folder(tmp_path / "a", BASIS)
    (output / "ZF6.html").unlink()
    merge = plan_merge(output, BASIS, ["ZK1"], ["ZF6", "ZK1"])
    assert merge.kept == () and "its report file is no longer in the folder" in merge.dropped[0]
    older = folder(tmp_path / "b", None)
    merge = plan_merge(older, BASIS, ["ZK1"], ["ZF6", "ZK1"])
    assert merge.kept == () and "that run did not record its inputs" in merge.dropped[0]


def test_a_link_out_of_the_folder_in_the_record_is_neither_kept_nor_removed(tmp_path):
    outside = tmp_path / "precious.html"
    outside.write_text("not the run's")
    output = folder(tmp_path / "run", BASIS, codes=("ZK1",))
    record = json.loads((output / "internal" / "run.json").read_text())
    record["index"].append(line("ZF6", "../precious.html"))
    record["planned"] = ["../precious.html", "/etc/passwd"]
    (output / "internal" / "run.json").write_text(json.dumps(record))
    merge = plan_merge(output, BASIS, ["ZK1"], ["ZF6", "ZK1"])
    assert "ZF6" not in merge.kept_codes
    assert all(path.parent == output for path in merge.remove) and outside.is_file()


def test_a_changed_protective_marking_removes_the_earlier_reports(tmp_path):
    """A kept report would carry the earlier marking on every page: it is remade instead."""
    marked = Basis(
        BASIS.quarter, BASIS.disclosure, BASIS.rule_sha256, BASIS.inputs, marking="OFFICIAL-SENSITIVE"
    )
    merge = plan_merge(folder(tmp_path / "a", BASIS), marked, ["ZK1"], ["ZF6", "ZK1"])
    assert merge.kept == () and merge.dropped[0].endswith(
        "was removed: its pages carry no protective marking."
    )
    merge = plan_merge(folder(tmp_path / "b", marked), BASIS, ["ZK1"], ["ZF6", "ZK1"])
    assert merge.dropped[0].endswith("was removed: its pages are marked OFFICIAL-SENSITIVE.")
    merge = plan_merge(folder(tmp_path / "c", marked), marked, ["ZK1"], ["ZF6", "ZK1"])
    assert [kept.entry.provider_code for kept in merge.kept] == ["ZF6"]
