"""The digest's pure core: figures from plain rows, weeks, typical comments, renderers, charts."""

from __future__ import annotations

import csv
import io
import json
import posixpath
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape

from config.catalogue import default_catalogue
from publish.charts import Bar, horizontal_bars, stacked_columns
from publish.digest import (
    Digest,
    DigestRow,
    Period,
    QuoteText,
    build_digest,
    excerpt,
    iso_week,
    quote_candidates,
    statistics_of,
    week_starts,
)
from publish.digest_render import (
    CSV_COLUMNS,
    DIGEST_STYLESHEET,
    Links,
    SitePage,
    digest_page,
    render,
    render_statistics,
    to_json,
)
from publish.render import CONTENT_SECURITY_POLICY
from publish.typical import most_typical, spread_sample

CATALOGUE = default_catalogue()
TIRANE = ZoneInfo("Europe/Tirane")
NOW = datetime(2020, 10, 1, tzinfo=UTC)
EVERYTHING = Period(None, None, TIRANE)


def at(day: int, hour: int = 12, month: int = 9) -> datetime:
    return datetime(2020, month, day, hour, 0, tzinfo=TIRANE).astimezone(UTC)


def row(comment_id: int, status: str = "published", labels: tuple[str, ...] = ("4",),
        received: datetime | None = None, language: str = "sq", channel: str = "imap",
        decided_at: datetime | None = None, reject_code: str | None = None,
        outcome: str | None = None) -> DigestRow:
    return DigestRow(id=comment_id, reference=f"OGP-{comment_id:06d}", status=status,
                     language=language, channel=channel, received_at=received or at(2),
                     decided_at=decided_at, reject_code=reject_code, labels=labels,
                     outcome=outcome)


def digest_of(rows: list[DigestRow], period: Period = EVERYTHING, public: bool = False,
              texts: dict[int, QuoteText] | None = None) -> Digest:
    return build_digest(rows, texts or {}, CATALOGUE, period, NOW, public=public)


# ---------------------------------------------------------------- periods and weeks


def test_a_period_is_whole_local_days_even_across_the_end_of_summer_time() -> None:
    # Europe/Tirane leaves summer time on 25 October 2020: that day has 25 hours.
    period = Period(date(2020, 10, 25), date(2020, 10, 25), TIRANE)
    start, end = period.bounds()
    assert start is not None
    assert end is not None
    assert start.astimezone(UTC) == datetime(2020, 10, 24, 22, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2020, 10, 25, 23, 0, tzinfo=UTC)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=25)


def test_weeks_are_iso_weeks_also_at_the_turn_of_the_year() -> None:
    assert iso_week(date(2020, 12, 31)) == ("2020-W53", date(2020, 12, 28))
    assert iso_week(date(2021, 1, 3)) == ("2020-W53", date(2020, 12, 28))
    assert iso_week(date(2021, 1, 4)) == ("2021-W01", date(2021, 1, 4))
    assert week_starts(date(2020, 9, 1), date(2020, 9, 14)) == [
        date(2020, 8, 31), date(2020, 9, 7), date(2020, 9, 14)]


def test_weeks_without_comments_are_shown_as_empty_weeks() -> None:
    digest = digest_of([row(1, received=at(1)), row(2, received=at(20))])
    weeks = {week.label: week.figure.comment_ids for week in digest.weeks}
    assert weeks == {"2020-W36": (1,), "2020-W37": (), "2020-W38": (2,)}


def test_only_comments_received_in_the_period_count() -> None:
    late_sunday = datetime(2020, 9, 13, 23, 30, tzinfo=TIRANE)
    rows = [row(1, received=late_sunday), row(2, received=late_sunday + timedelta(hours=1))]
    digest = digest_of(rows, Period(date(2020, 9, 14), None, TIRANE))
    assert digest.received.comment_ids == (2,)


# ---------------------------------------------------------------- figures


def test_every_figure_is_the_ids_it_counts() -> None:
    rows = [
        row(1, "published", ("4", "3"), language="en", channel="form", outcome="adopted"),
        row(2, "published", ("4",), outcome=None),
        row(3, "rejected", ("9",), reject_code="spam", decided_at=at(2, 14)),
        row(4, "rejected", (), reject_code=None, decided_at=at(2, 16)),
        row(5, "rejected", ("1",), reject_code="no-such-code", decided_at=at(3, 12)),
        row(6, "pending", ()),
        row(7, "withdrawn", ("general",)),
    ]
    digest = digest_of(rows)
    data = to_json(digest, CATALOGUE)
    assert (data["received"], data["published"], data["rejected"], data["pending"],
            data["withdrawn"]) == (7, 2, 3, 1, 1)
    assert data["by_commitment"]["4"]["comment_ids"] == [1, 2]
    assert data["by_commitment"]["general"]["comment_ids"] == [4, 6, 7]
    # Commitments 3 and 4 are one component: comment 1 counts there once.
    assert data["by_component"]["digital_governance"]["comment_ids"] == [1, 2]
    assert data["by_language"]["en"]["comment_ids"] == [1]
    assert data["by_channel"]["form"] == {"count": 1, "comment_ids": [1]}
    # No code, or one we do not know: "other", as in the citizen's notice.
    assert data["rejected_by_reason"]["spam"]["comment_ids"] == [3]
    assert data["rejected_by_reason"]["other"]["comment_ids"] == [4, 5]
    assert data["rejected_by_reason"]["abusive"] == {
        "count": 0, "comment_ids": [], "label_sq": "Gjuhë fyese ose kërcënuese",
        "label_en": "Abusive or threatening language"}
    # Decisions 2, 4 and 24 hours after receipt: the median is 4.
    assert data["decision_time"] == {"median_hours": 4.0, "count": 3,
                                     "comment_ids": [3, 4, 5]}
    coverage = data["response_coverage"]["4"]
    assert coverage["published"]["comment_ids"] == [1, 2]
    assert coverage["responded"]["comment_ids"] == [1]
    assert coverage["share"] == 0.5
    assert coverage["by_outcome"]["adopted"]["comment_ids"] == [1]
    assert data["response_coverage"]["9"]["share"] is None  # nothing published there


def test_a_public_digest_counts_published_comments_only() -> None:
    rows = [row(1, "published"), row(2, "approved"), row(3, "rejected", reject_code="spam")]
    digest = digest_of(rows, public=True)
    data = to_json(digest, CATALOGUE)
    assert data["received_ids"] == [1]
    assert data["rejected"] == 0
    assert data["public"] is True


def test_the_statistics_are_numbers_only() -> None:
    stats = statistics_of(digest_of([row(1, "rejected", reject_code="spam"), row(2)]))
    assert stats.received == 2
    assert stats.rejected_by_reason["spam"] == 1
    assert stats.by_status["published"] == 1


# ---------------------------------------------------------------- representative comments


def test_the_most_typical_comment_is_nearest_the_centre_of_its_group() -> None:
    texts = [
        (1, "Buxheti i bashkisë duhet të publikohet çdo muaj në format të hapur."),
        (2, "Buxheti i bashkise duhet te publikohet cdo muaj ne format te hapur dhe CSV."),
        (3, "Buxheti i bashkisë të publikohet në format të hapur."),
        (4, "Më pëlqen futbolli dhe moti i mirë në Vlorë."),
    ]
    chosen = most_typical({"9": texts}, 2)["9"]
    ids = [i for i, _ in chosen]
    assert 4 not in ids
    assert len(ids) == 2
    assert all(0 < score <= 1 for _, score in chosen)


def test_a_near_copy_of_a_chosen_comment_is_skipped() -> None:
    same = "Kërkojmë që regjistri i pronarëve përfitues të jetë publik tani."
    texts = [(1, same), (2, same), (3, same + " "), (4, "Regjistri duhet të jetë publik."),
             (5, "Pronarët përfitues duhet të njihen nga publiku.")]
    ids = [i for i, _ in most_typical({"2": texts}, 3)["2"]]
    assert len([i for i in ids if i in (1, 2, 3)]) == 1
    assert ids[0] == 1  # equal texts: the lowest id
    assert most_typical({"2": texts}, 3) == most_typical({"2": list(reversed(texts))}, 3)


def test_groups_without_text_get_no_quote() -> None:
    assert most_typical({"1": []}, 3) == {"1": []}
    assert [i for i, _ in most_typical({"1": [(1, "!!! ...")]}, 3)["1"]] == [1]
    # Nothing to compare at all (no character n-gram): still one quote, score 0.
    assert most_typical({"1": [(1, " ")]}, 3) == {"1": [(1, 0.0)]}


def test_large_groups_are_sampled_evenly() -> None:
    assert spread_sample(list(range(10)), 20) == list(range(10))
    assert spread_sample(list(range(100)), 4) == [0, 25, 50, 75]
    rows = [row(i, "published", ("4",)) for i in range(1, 1001)]
    assert len(quote_candidates(rows, public=True, per_label=50)["4"]) == 50
    assert quote_candidates([row(1, "rejected")], public=False) == {}


def test_quotes_carry_the_reference_and_an_excerpt() -> None:
    long_text = "Portali i të dhënave të hapura duhet të ofrojë CSV. " * 20
    digest = digest_of([row(7, "published", ("4",))],
                       texts={7: QuoteText("Të dhëna", long_text)})
    [quote] = digest.representative["4"]
    assert quote.reference == "OGP-000007"
    assert quote.subject == "Të dhëna"
    assert len(quote.excerpt) <= 282
    assert quote.excerpt.endswith("…")
    assert excerpt("  a\n b  ") == "a b"


# ---------------------------------------------------------------- renderers


def sample_digest() -> Digest:
    rows = [row(1, "published", ("4",), outcome="noted"), row(2, "pending", ("1",)),
            row(3, "rejected", ("9",), reject_code="abusive", decided_at=at(2, 13))]
    texts = {1: QuoteText("S1", "Portali i të dhënave të hapura."),
             2: QuoteText("S2", "Planet e integritetit.")}
    return digest_of(rows, texts=texts)


def test_csv_has_one_row_per_figure_with_its_ids() -> None:
    output = render(sample_digest(), CATALOGUE, "csv", Links(public=False))
    rows = list(csv.DictReader(io.StringIO(output)))
    assert tuple(rows[0]) == CSV_COLUMNS
    by_key = {(r["section"], r["key"]): r for r in rows}
    assert by_key[("commitment", "4")]["comment_ids"] == "1"
    assert by_key[("reason", "abusive")]["count"] == "1"
    assert by_key[("representative", "4")]["comment_ids"] == "1"
    assert by_key[("coverage", "4-responded")]["share"] == "1.0000"


def test_json_has_the_fields_of_the_interface() -> None:
    data = json.loads(render(sample_digest(), CATALOGUE, "json", Links(public=False)))
    assert {"received", "published", "rejected", "pending", "by_commitment", "by_language",
            "by_channel", "by_week", "rejected_by_reason", "response_coverage",
            "representative"} <= set(data)
    assert data["representative"]["4"] == [1]
    assert data["representative"]["9"] == []  # a rejected comment is never quoted


def test_markdown_quotes_with_reference_and_link() -> None:
    output = render(sample_digest(), CATALOGUE, "md", Links(public=False))
    assert "[OGP-000001](/comments/1)" in output
    assert "| Received | 3 |" in output


def test_public_links_go_to_the_comments_own_page() -> None:
    digest = digest_of([row(5, "published", ("4", "2")), row(1234, "published", ("2",))])
    links = Links(public=True, prefix="../")
    assert links.comment(digest, CATALOGUE, 5) == "../sq/comments/000/OGP-000005.html"
    assert links.comment(digest, CATALOGUE, 1234) == "../sq/comments/001/OGP-001234.html"
    assert Links(public=False).comment(digest, CATALOGUE, 5) == "/comments/5"


def test_html_links_every_figure_to_its_comments() -> None:
    output = render(sample_digest(), CATALOGUE, "html", Links(public=False))
    assert '<a href="#set-commitment-4">1</a>' in output
    assert 'id="set-commitment-4"' in output
    assert '<a href="/comments/1">#1</a>' in output
    assert "<script" not in output
    assert "<link" not in output
    assert " src=" not in output


def test_the_standalone_html_carries_its_css_and_charts_inline() -> None:
    page = digest_page(sample_digest(), CATALOGUE, Links(public=False))
    assert page.files == {}
    assert "<style>" in page.html
    assert page.html.count("<svg ") == 4  # weeks, commitments, reasons, coverage
    assert "<img" not in page.html
    assert "Content-Security-Policy" not in page.html
    assert 'xlink:href="#set-commitment-4"' in page.html  # a bar links to its comments


INLINE_STYLE = re.compile(r"<style|\sstyle\s*=", re.IGNORECASE)


def check_site_page(html: str, files: dict[str, str], page: str) -> list[str]:
    """A page under the site's CSP: the policy's <meta>, nothing inline; every file it
    loads is among ``files`` (returned with it, or the stylesheet); returns those paths."""
    policy = escape(CONTENT_SECURITY_POLICY)
    assert f'<meta http-equiv="Content-Security-Policy" content="{policy}">' in html
    assert INLINE_STYLE.findall(html) == []
    assert "<script" not in html.lower()
    assert "<svg" not in html
    folder = page.rsplit("/", 1)[0] if "/" in page else ""
    loaded = [posixpath.normpath(posixpath.join(folder, src))
              for src in re.findall(r'(?:src|<link rel="stylesheet" href)="([^"]+)"', html)]
    assert DIGEST_STYLESHEET in loaded
    assert set(loaded) <= {*files, DIGEST_STYLESHEET}
    return loaded


def test_the_site_digest_passes_the_csp_with_its_charts_as_files() -> None:
    site = SitePage("digests/2020-W36.html", "digests/charts", "2020-W36-")
    page = digest_page(sample_digest(), CATALOGUE, Links(public=True, prefix="../"),
                       site=site, back=("index.html", "All weekly digests"))
    loaded = check_site_page(page.html, dict(page.files), site.path)
    assert sorted(page.files) == [f"digests/charts/2020-W36-{name}.svg" for name in
                                  ("commitments", "coverage", "reasons", "weeks")]
    assert set(loaded) == {*page.files, DIGEST_STYLESHEET}
    # Each chart keeps its text alternative; its file is a whole SVG document.
    assert ('<img class="chart" src="charts/2020-W36-coverage.svg" '
            'alt="Published comments with a response, by outcome">') in page.html
    for svg in page.files.values():
        assert svg.startswith('<?xml version="1.0" encoding="utf-8"')
        assert 'xmlns="http://www.w3.org/2000/svg"' in svg
        assert "#set-" not in svg  # an image cannot follow a link: the tables carry them
    # The figures and the comments behind them are the same as in the standalone page.
    assert '<a href="#set-commitment-4">1</a>' in page.html
    assert '<a href="../sq/comments/000/OGP-000001.html">#1</a>' in page.html
    assert 'href="../index.html"' in page.html


def test_the_statistics_page_passes_the_csp_and_links_commitments_from_the_root() -> None:
    stats = statistics_of(sample_digest())
    page = render_statistics(stats, CATALOGUE, NOW, TIRANE,
                             site=SitePage("statistics.html", "charts"))
    check_site_page(page.html, dict(page.files), "statistics.html")
    assert sorted(page.files) == ["charts/statistics-coverage.svg",
                                  "charts/statistics-reasons.svg"]
    assert '<a href="sq/commitments/4.html">' in page.html
    assert '<a href="index.html">' in page.html
    assert '<a href="digests/index.html">' in page.html
    standalone = render_statistics(stats, CATALOGUE, NOW, TIRANE)
    assert standalone.files == {}
    assert "<style>" in standalone.html
    assert standalone.html.count("<svg ") == 2


# ---------------------------------------------------------------- charts


def test_charts_are_svg_with_text_labels_and_ids_of_their_own() -> None:
    bars = [Bar("W37", (3, 1), "#set-week-W37"), Bar("W38", (0, 2))]
    first = stacked_columns("a", "Per week", bars, ["published", "pending"], "comments")
    second = stacked_columns("b", "Per week", bars, ["published", "pending"], "comments")
    assert first.startswith("<svg ")
    assert "<?xml" not in first
    assert "DOCTYPE" not in first
    labels = re.findall(r"<text[^>]*>([^<]+)</text>", first)
    assert {"W37", "W38", "published", "pending", "4"} <= set(labels)
    ids_a = set(re.findall(r'\bid="([^"]+)"', first))
    ids_b = set(re.findall(r'\bid="([^"]+)"', second))
    assert ids_a
    assert not ids_a & ids_b
    assert all(i.startswith("a-") for i in ids_a)
    # Every internal reference points at an id of the same chart.
    refs = set(re.findall(r'(?:href="#|url\(#)([^")]+)', first)) - {"set-week-W37"}
    assert refs <= ids_a
    assert 'xlink:href="#set-week-W37"' in first
    assert "target=" not in first
    assert "<title>Per week</title>" in first


def test_series_differ_by_hatching_not_colour_alone() -> None:
    svg = horizontal_bars("h", "Coverage", [Bar("1", (1, 2, 3))], ["a", "b", "c"], "n")
    assert "<pattern" in svg  # hatches are SVG patterns
    fills = set(re.findall(r'fill="(#[0-9a-f]{6})"', svg))
    assert fills
    colours = {f for f in fills if len({f[1:3], f[3:5], f[5:7]}) > 1}
    assert colours == set(), "charts use grey levels only"


def test_a_chart_is_the_same_bytes_for_the_same_bars_and_states_its_numbers() -> None:
    bars = [Bar("Transparenca & buxheti", (7, 2), "#set-a"), Bar("Drejtësia", (0, 5))]
    first = horizontal_bars("c", "Coverage", bars, ["adopted", "none yet"], "comments",
                            total_labels=["78 %", "0 %"])
    assert first == horizontal_bars("c", "Coverage", bars, ["adopted", "none yet"],
                                    "comments", total_labels=["78 %", "0 %"])
    assert 'viewBox="0 0 400 ' in first
    assert "<desc" in first
    assert "Transparenca &amp; buxheti: 78 % (adopted 7, none yet 2)" in first
    assert {"78 %", "0 %", "Drejtësia", "comments"} <= set(
        re.findall(r"<text[^>]*>([^<]+)</text>", first))
    assert "style" not in first  # presentation attributes only: the site's CSP forbids style


@pytest.mark.parametrize("fmt", ["html", "md", "csv", "json"])
def test_an_empty_digest_renders(fmt: str) -> None:
    output = render(digest_of([]), CATALOGUE, fmt, Links(public=True))
    assert output
