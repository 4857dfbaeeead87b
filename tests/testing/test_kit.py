"""The conformance kit (halosync.testing) run the way a plugin author runs it, in a pytest of its own: the contrib
examples pass it, and a plugin with the usual first mistakes fails it with messages that say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BROKEN = """
import pytest
from halosync.testing import FileSourceConformance, SinkConformance, SourceConformance
from tests.testing.broken_plugin import CarelessFilesKitFake, CarelessSinkFake, CarelessSourceFake

@pytest.fixture
def halosync_source_fake():
    return CarelessSourceFake()

@pytest.fixture
def halosync_sink_fake():
    return CarelessSinkFake()

@pytest.fixture
def halosync_file_source_fake(halosync_watched_folder):
    return CarelessFilesKitFake(halosync_watched_folder)

class TestCarelessSource(SourceConformance):
    pass

class TestCarelessFileSource(FileSourceConformance):
    pass

class TestCarelessSink(SinkConformance):
    pass
"""


@pytest.mark.parametrize(("example", "checks"), [("halosync-example-source", 9), ("halosync-example-sink", 8)])
def test_the_examples_pass_the_kit_in_their_own_pytest(pytester: pytest.Pytester, example: str, checks: int) -> None:
    """A fresh pytest process, configured by the example's own pyproject: the kit arrives through its pytest11
    entry point, with no help from halosync's conftest."""
    result = pytester.runpytest_subprocess(str(ROOT / "contrib" / example / "tests"), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=checks)


@pytest.fixture
def careless(pytester: pytest.Pytester) -> pytest.RunResult:
    pytester.makepyfile(test_careless=BROKEN)
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "--tb=short", "-rA")


def outcome(result: pytest.RunResult, test: str) -> str:
    lines = [line for line in result.outlines if line.endswith(f"::{test}") or f"::{test} - " in line]
    return lines[0].split()[0] if lines else "missing"


FAILS = {
    "TestCarelessSource::test_ties_across_a_page_boundary_are_not_lost":
        "put the last record's id in the cursor beside its change time",
    "TestCarelessSource::test_malformed_records_become_rejected_with_a_reason":
        "a malformed record made the pull raise ValueError",
    "TestCarelessSource::test_checks_fail_clearly_on_bad_credentials":
        "checks() raised AuthError",
    "TestCarelessSource::test_a_429_is_waited_out_and_loses_nothing[with-retry-after]":
        "wait at least Retry-After before the next request",
    "TestCarelessFileSource::test_a_crash_at_any_page_resumes_with_nothing_lost_or_repeated":
        "a page's cursor must say how far into which file the pull is",
    "TestCarelessFileSource::test_a_redropped_export_stages_only_its_new_rows":
        "the same export dropped again staged 12 of its 12 rows again",
    "TestCarelessFileSource::test_an_edited_row_arrives_and_alone":
        "stage only the rows that changed since the file of that name was read",
    "TestCarelessFileSource::test_malformed_rows_become_rejected_naming_file_and_row":
        "start the reason with FILE:ROW ('export-1.csv:5: ...')",
    "TestCarelessFileSource::test_checks_fail_clearly_on_an_unreadable_folder":
        "checks() raised FileNotFoundError",
    "TestCarelessSink::test_a_lost_answer_then_find_makes_no_second_record":
        "write() retried a create blindly",
    "TestCarelessSink::test_find_answers_none_for_ops_never_written":
        "find() matched ops that were never written",
    "TestCarelessSink::test_refused_items_are_reported_per_item":
        "one refused record made the whole write raise ProviderError",
    "TestCarelessSink::test_list_records_pages_and_resumes_from_its_watermark":
        "the last page of a full listing carries no watermark",
}


def test_a_careless_plugin_fails_each_check_it_breaks_saying_what_to_fix(careless: pytest.RunResult) -> None:
    text = careless.stdout.str()
    for test, advice in FAILS.items():
        assert outcome(careless, test) == "FAILED", f"{test} did not fail"
        assert advice in text, f"{test}: the failure does not say {advice!r}"


def test_the_checks_a_careless_plugin_keeps_still_pass(careless: pytest.RunResult) -> None:
    """The kit blames only what is broken: paging and restarts of distinct change times (and of files read to their
    end), creates and updates."""
    for test in ("TestCarelessSource::test_pull_pages_to_the_end",
                 "TestCarelessFileSource::test_pull_pages_to_the_end",
                 "TestCarelessSource::test_quota_headers_show_in_rate_limits",
                 "TestCarelessSink::test_creates_and_updates_in_batches"):
        assert outcome(careless, test) == "PASSED", f"{test}: {outcome(careless, test)}"
