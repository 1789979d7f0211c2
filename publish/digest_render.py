"""A ``Digest`` written out: JSON, CSV, Markdown and HTML (pure).

Every figure keeps its comment ids: in JSON and CSV as lists, in HTML as a link
to the list of the comments it counts (each a link to the comment), so any number
can be checked. ``Links`` says where a comment lives: the moderation UI
(``/comments/ID``) for the secretariat, its own page on the public site for the
public digest.

HTML comes in two variants. Standalone (the moderation UI, the e-mailed digest, the
evidence archive, ``digest --format html``): one file, inline CSS, inline SVG charts,
no script, nothing fetched; it prints on A4. Site (the public record pages, ``page``
given): the page must pass the site's Content-Security-Policy, which forbids inline
style, so it links a stylesheet and shows each chart as an ``.svg`` file through
``<img>`` (an image is not subject to the page's policy); those files come back with
the page. A site page never carries ``<style>``, a ``style=`` attribute or a script.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from markupsafe import Markup

from config.catalogue import GENERAL, Catalogue
from moderation.models import RejectCode
from moderation.reasons import REJECT_REASONS
from publish.digest import OUTCOMES, Coverage, Digest, Figure, Statistics
from publish.i18n import campaigns_summary
from publish.render import CONTENT_SECURITY_POLICY, make_environment
from publish.urls import ROOT_INDEX, comment_page, commitment_page, relative

FORMATS = ("html", "md", "csv", "json")
MEDIA_TYPES = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8",
               "csv": "text/csv; charset=utf-8", "json": "application/json"}

STATUS_NAMES = {
    "published": ("Të botuara", "Published"),
    "approved": ("Të miratuara, pa u botuar ende", "Approved, not yet published"),
    "pending": ("Në pritje të moderimit", "Awaiting moderation"),
    "rejected": ("Të refuzuara", "Rejected"),
    "withdrawn": ("Të tërhequra", "Withdrawn"),
}
LANGUAGE_NAMES = {"sq": ("Shqip", "Albanian"), "en": ("Anglisht", "English"),
                  "mixed": ("Të dyja", "Both"), "und": ("E papërcaktuar", "Undetermined")}
CHANNEL_NAMES = {"imap": ("E-mail", "E-mail"), "import": ("Import", "Imported"),
                 "form": ("Formulari në faqe", "Web form")}
OUTCOME_NAMES = {
    "adopted": ("Pranuar", "Adopted"),
    "partly-adopted": ("Pranuar pjesërisht", "Partly adopted"),
    "not-adopted": ("Nuk u pranua", "Not adopted"),
    "out-of-scope": ("Jashtë objektit", "Out of scope"),
    "noted": ("Mbajtur parasysh", "Noted"),
}


def reason_names(code: str) -> tuple[str, str]:
    reason = REJECT_REASONS.get(RejectCode(code)) if code in set(RejectCode) else None
    return (reason.sq, reason.en) if reason else (code, code)


def share_text(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)} %"


# ---------------------------------------------------------------- JSON


def _figure(figure: Figure) -> dict[str, Any]:
    return {"count": figure.count, "comment_ids": list(figure.comment_ids)}


def _coverage(coverage: Coverage) -> dict[str, Any]:
    return {
        "published": _figure(coverage.published),
        "responded": _figure(coverage.responded),
        "share": None if coverage.share is None else round(coverage.share, 4),
        "by_outcome": {name: _figure(figure) for name, figure in coverage.by_outcome.items()},
    }


def to_json(digest: Digest, catalogue: Catalogue) -> dict[str, Any]:
    """The digest as JSON values; every count comes with the ids of the comments it counts."""
    def titled(label_id: str) -> dict[str, str]:
        try:
            label = catalogue.label(label_id)
        except KeyError:
            return {"title_sq": label_id, "title_en": label_id}
        return {"title_sq": label.title_sq, "title_en": label.title_en}

    quotes = [quote for items in digest.representative.values() for quote in items]
    return {
        "since": digest.period.since.isoformat() if digest.period.since else None,
        "until": digest.period.until.isoformat() if digest.period.until else None,
        "time_zone": str(digest.period.zone),
        "public": digest.public,
        "generated_at": digest.generated_at.isoformat(),
        "received": digest.received.count,
        "published": digest.status("published").count,
        "approved": digest.status("approved").count,
        "rejected": digest.status("rejected").count,
        "pending": digest.status("pending").count,
        "withdrawn": digest.status("withdrawn").count,
        "received_ids": list(digest.received.comment_ids),
        "by_status": {name: _figure(figure) for name, figure in digest.by_status.items()},
        "by_commitment": {label: {**_figure(figure), **titled(label)}
                          for label, figure in digest.by_commitment.items()},
        "by_component": {
            component.id: {**_figure(digest.by_component.get(component.id, Figure(()))),
                           "title_sq": component.title_sq, "title_en": component.title_en,
                           "commitments": list(component.commitment_ids)}
            for component in catalogue.components
        },
        "by_language": {name: _figure(figure) for name, figure in digest.by_language.items()},
        "by_channel": {name: _figure(figure) for name, figure in digest.by_channel.items()},
        "by_week": {week.label: {"start": week.start.isoformat(), "end": week.end.isoformat(),
                                 **_figure(week.figure), "by_status": dict(week.by_status)}
                    for week in digest.weeks},
        "rejected_by_reason": {
            code: {**_figure(figure), "label_sq": reason_names(code)[0],
                   "label_en": reason_names(code)[1]}
            for code, figure in digest.rejected_by_reason.items()},
        "response_coverage": {label: _coverage(coverage)
                              for label, coverage in digest.response_coverage.items()},
        "response_coverage_overall": _coverage(digest.coverage_overall),
        "decision_time": {"median_hours": digest.median_hours_to_decision,
                          **_figure(digest.decided)},
        "representative": {label: [quote.id for quote in items]
                           for label, items in digest.representative.items()},
        "quotes": {str(quote.id): {"reference": quote.reference, "label": quote.label,
                                   "subject": quote.subject, "excerpt": quote.excerpt,
                                   "similarity": quote.similarity}
                   for quote in quotes},
        "references": {str(comment_id): reference
                       for comment_id, reference in sorted(digest.references.items())},
        # Campaigns and the comments sent alone, counted apart.
        "campaigns": {"count": len(digest.campaigns), "comments": digest.campaign_comments,
                      "by_campaign": {str(campaign): _figure(figure)
                                      for campaign, figure in digest.campaigns.items()}},
        "unique": _figure(digest.unique),
        "campaigns_summary": {"sq": summary(digest, "sq"), "en": summary(digest, "en")},
    }


def summary(digest: Digest, language: str) -> str:
    """"1 campaign of 500 comments; 12 unique comments" (in Albanian with "sq")."""
    return campaigns_summary(len(digest.campaigns), digest.campaign_comments,
                             digest.unique.count, "sq" if language == "sq" else "en")


def render_json(digest: Digest, catalogue: Catalogue) -> str:
    return json.dumps(to_json(digest, catalogue), ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- the figures, in reading order


@dataclass(frozen=True)
class Row:
    """One figure of the digest: where it belongs, what it is called, what it counts."""

    section: str
    key: str
    name: str
    figure: Figure
    share: float | None = None

    @property
    def anchor(self) -> str:
        return f"set-{self.section}-{self.key}"


def _label_name(catalogue: Catalogue, label_id: str) -> str:
    try:
        label = catalogue.label(label_id)
    except KeyError:
        return label_id
    return f"{label.id}. {label.title_en}" if label.id.isdigit() else label.title_en


def figure_rows(digest: Digest, catalogue: Catalogue) -> Iterator[Row]:
    yield Row("total", "received", "Received", digest.received)
    for name, figure in digest.by_status.items():
        yield Row("status", name, STATUS_NAMES.get(name, (name, name))[1], figure)
    for week in digest.weeks:
        yield Row("week", week.label, f"{week.label} ({week.start:%d.%m}–{week.end:%d.%m.%Y})",
                  week.figure)
    for component in catalogue.components:
        yield Row("component", component.id, component.title_en,
                  digest.by_component.get(component.id, Figure(())))
    for label_id, figure in digest.by_commitment.items():
        yield Row("commitment", label_id, _label_name(catalogue, label_id), figure)
    for name, figure in digest.by_language.items():
        yield Row("language", name, LANGUAGE_NAMES.get(name, (name, name))[1], figure)
    for name, figure in digest.by_channel.items():
        yield Row("channel", name, CHANNEL_NAMES.get(name, (name, name))[1], figure)
    for code, figure in digest.rejected_by_reason.items():
        yield Row("reason", code, reason_names(code)[1], figure)
    for campaign, figure in digest.campaigns.items():
        yield Row("campaign", str(campaign), f"Campaign {campaign}", figure)
    yield Row("unique", "unique", "Unique comments (in no campaign)", digest.unique)
    coverages = [*digest.response_coverage.items(), ("all", digest.coverage_overall)]
    for label_id, coverage in coverages:
        name = "All commitments" if label_id == "all" else _label_name(catalogue, label_id)
        yield Row("coverage", f"{label_id}-published", f"{name}: published",
                  coverage.published)
        yield Row("coverage", f"{label_id}-responded", f"{name}: with a response",
                  coverage.responded, coverage.share)
        for outcome in OUTCOMES:
            yield Row("coverage", f"{label_id}-{outcome}", f"{name}: {outcome}",
                      coverage.by_outcome.get(outcome, Figure(())))
    yield Row("decision", "decided", "Decided (behind the median time to decision)",
              digest.decided)


# ---------------------------------------------------------------- CSV

CSV_COLUMNS = ("section", "key", "name", "count", "share", "comment_ids")


def render_csv(digest: Digest, catalogue: Catalogue) -> str:
    """One row per figure (ids space-separated), then the representative comments."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in figure_rows(digest, catalogue):
        writer.writerow([row.section, row.key, row.name, row.figure.count,
                         "" if row.share is None else f"{row.share:.4f}",
                         " ".join(map(str, row.figure.comment_ids))])
    writer.writerow(["decision", "median_hours", "Median hours from receipt to decision",
                     digest.decided.count, digest.median_hours_to_decision or "",
                     " ".join(map(str, digest.decided.comment_ids))])
    for label_id, quotes in digest.representative.items():
        for quote in quotes:
            writer.writerow(["representative", label_id, f"{quote.reference}: {quote.excerpt}",
                             1, f"{quote.similarity:.4f}", str(quote.id)])
    return out.getvalue()


# ---------------------------------------------------------------- links


@dataclass(frozen=True)
class Links:
    """Where a comment is shown: the moderation UI, or the public site (``prefix`` to its root)."""

    public: bool
    prefix: str = ""

    def comment(self, digest: Digest, catalogue: Catalogue, comment_id: int) -> str:
        if not self.public:
            return f"/comments/{comment_id}"
        # The comment's own page: its permalink by reference number.
        reference = digest.references.get(comment_id)
        if reference is None:
            label = catalogue.label(digest.primary_label.get(comment_id, GENERAL))
            return f"{self.prefix}{commitment_page('sq', label.id)}"
        return f"{self.prefix}{comment_page('sq', reference)}"


# ---------------------------------------------------------------- Markdown


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(digest: Digest, catalogue: Catalogue, links: Links) -> str:
    lines = [f"# Digest of comments / Përmbledhje e komenteve: {period_text(digest)}", ""]
    if digest.public:
        lines += ["Published comments only. / Vetëm komentet e botuara.", ""]
    lines += [f"Generated {local_time(digest, digest.generated_at)}.", ""]
    rows = list(figure_rows(digest, catalogue))
    sections = [("status", "Totals"), ("week", "Per week"), ("component", "Per component"),
                ("commitment", "Per commitment"), ("language", "Per language"),
                ("channel", "Per channel"), ("reason", "Rejections by reason")]
    lines += ["| | count |", "|---|---:|", f"| Received | {digest.received.count} |"]
    if digest.campaigns:
        lines[-3:-3] = [f"{summary(digest, 'en')}. / {summary(digest, 'sq')}.", ""]
    for section, title in sections:
        if section != "status":
            lines += ["", f"## {title}", "", "| | count |", "|---|---:|"]
        lines += [f"| {_md(row.name)} | {row.figure.count} |"
                  for row in rows if row.section == section]
    lines += ["", "## Response coverage (published comments with a response)", "",
              "| commitment | published | with a response | share | "
              + " | ".join(OUTCOMES) + " |",
              "|---|---:|---:|---:|" + "---:|" * len(OUTCOMES)]
    coverages = [*digest.response_coverage.items(), ("all", digest.coverage_overall)]
    for label_id, coverage in coverages:
        name = "All" if label_id == "all" else _label_name(catalogue, label_id)
        counts = " | ".join(str(coverage.by_outcome.get(o, Figure(())).count) for o in OUTCOMES)
        lines.append(f"| {_md(name)} | {coverage.published.count} | "
                     f"{coverage.responded.count} | {share_text(coverage.share)} | {counts} |")
    median = digest.median_hours_to_decision
    lines += ["", "## Time from receipt to decision", "",
              f"Median: {'–' if median is None else f'{median:g} hours'} "
              f"over {digest.decided.count} decisions.", "",
              "## Representative comments", ""]
    for label_id, quotes in digest.representative.items():
        if not quotes:
            continue
        lines += [f"### {_md(_label_name(catalogue, label_id))}", ""]
        for quote in quotes:
            lines += [f"> {_md(quote.excerpt)}", ">",
                      f"> — [{quote.reference}]({links.comment(digest, catalogue, quote.id)})"
                      + (f", “{_md(quote.subject)}”" if quote.subject else ""), ""]
    lines += ["## Comments behind each figure", ""]
    for row in rows:
        if row.figure.count:
            lines.append(f"- {_md(row.section)} / {_md(row.name)} ({row.figure.count}): "
                         + ", ".join(f"#{i}" for i in row.figure.comment_ids))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- HTML


def period_text(digest: Digest) -> str:
    since, until = digest.period.since, digest.period.until
    start = since.isoformat() if since else "…"
    end = until.isoformat() if until else "…"
    return f"{start} – {end} ({digest.period.zone})"


def local_time(digest: Digest, moment: datetime) -> str:
    return moment.astimezone(digest.period.zone).strftime("%Y-%m-%d %H:%M %Z")


@dataclass(frozen=True)
class Chart:
    """One chart: its name (the file's stem on the site), its text alternative, its SVG."""

    name: str
    title: str
    svg: str


@dataclass(frozen=True)
class SitePage:
    """The site variant of a page: where it lives (from the site's root) and where its
    charts go (``chart_dir/chart_prefix<name>.svg``, the prefix keeps one week's charts
    apart from another's)."""

    path: str
    chart_dir: str
    chart_prefix: str = ""


@dataclass(frozen=True)
class Rendered:
    """A page and the files it needs: its charts (path from the site's root -> SVG text);
    none for the standalone variant, which carries everything inline."""

    html: str
    files: Mapping[str, str]


DIGEST_STYLESHEET = "assets/digest.css"


def digest_stylesheet() -> str:
    """The digests' and statistics' CSS: ``assets/digest.css`` on the site, inline elsewhere."""
    return make_environment().get_template("_digest_style.css").render()


def place_charts(charts: Mapping[str, Chart],
                 site: SitePage | None) -> tuple[dict[str, Markup], dict[str, str]]:
    """What the page shows for each chart, and the chart files it needs: inline SVG when
    standalone; on the site an ``<img>`` of a file of its own, whose SVG may carry the
    style a strict CSP forbids inline."""
    from publish.charts import svg_file

    if site is None:
        return {key: Markup(chart.svg) for key, chart in charts.items()}, {}  # noqa: S704
    shown: dict[str, Markup] = {}
    files: dict[str, str] = {}
    for key, chart in charts.items():
        path = f"{site.chart_dir}/{site.chart_prefix}{chart.name}.svg"
        files[path] = svg_file(chart.svg)
        shown[key] = Markup('<img class="chart" src="{}" alt="{}">').format(
            relative(site.path, path), chart.title)
    return shown, files


def _head(site: SitePage | None) -> dict[str, Any]:
    """The template's head: the CSP and a stylesheet on the site, inline CSS standalone."""
    if site is None:
        return {"csp": None, "stylesheet": None}
    return {"csp": CONTENT_SECURITY_POLICY,
            "stylesheet": relative(site.path, DIGEST_STYLESHEET)}


def digest_charts(digest: Digest, catalogue: Catalogue, prefix: str = "",
                  linked: bool = True) -> dict[str, Chart]:
    """The digest's charts; ``prefix`` keeps ids apart when pages are combined; ``linked``:
    each bar links to its list of comments (only inline SVG can follow a link)."""
    from publish.charts import Bar, horizontal_bars, stacked_columns

    def href(anchor: str, figure: Figure) -> str | None:
        return _href(anchor, figure) if linked else None

    charts: dict[str, Chart] = {}
    statuses = ["published"] if digest.public else ["published", "approved", "pending",
                                                      "rejected", "withdrawn"]
    if digest.weeks:
        title = "Comments received per week, by status"
        charts["weeks"] = Chart("weeks", title, stacked_columns(
            f"{prefix}weeks", title,
            [Bar(f"{week.label[5:]}\n{week.start:%d.%m}",
                 tuple(week.by_status.get(s, 0) for s in statuses),
                 href(f"#set-week-{week.label}", week.figure)) for week in digest.weeks],
            [STATUS_NAMES[s][1] for s in statuses], "comments"))
    commitments = list(digest.by_commitment.items())
    title = "Comments per commitment"
    charts["commitments"] = Chart("commitments", title, horizontal_bars(
        f"{prefix}commitments", title,
        [Bar(_short(catalogue, label), (figure.count,), href(f"#set-commitment-{label}", figure))
         for label, figure in commitments], ["comments"], "comments"))
    if not digest.public:
        title = "Rejected comments by reason"
        charts["reasons"] = Chart("reasons", title, horizontal_bars(
            f"{prefix}reasons", title,
            [Bar(reason_names(code)[1], (figure.count,), href(f"#set-reason-{code}", figure))
             for code, figure in digest.rejected_by_reason.items()], ["comments"], "comments"))
    charts["coverage"] = Chart("coverage", COVERAGE_TITLE, coverage_chart(
        f"{prefix}coverage", digest.response_coverage, catalogue, linked=linked))
    return charts


def _href(anchor: str, figure: Figure) -> str | None:
    """A bar links to its list of comments; an empty bar has none to link to."""
    return anchor if figure.count else None


def _short(catalogue: Catalogue, label_id: str, limit: int = 48) -> str:
    name = _label_name(catalogue, label_id)
    return name if len(name) <= limit else name[:limit - 2].rstrip() + "…"


COVERAGE_TITLE = "Published comments with a response, by outcome"


def coverage_chart(name: str, coverage: Mapping[str, Coverage], catalogue: Catalogue,
                   linked: bool) -> str:
    from publish.charts import Bar, horizontal_bars

    items = list(coverage.items())
    return horizontal_bars(
        name, COVERAGE_TITLE,
        [Bar(_short(catalogue, label),
             (*(c.by_outcome.get(o, Figure(())).count for o in OUTCOMES),
              c.published.count - c.responded.count),
             _href(f"#set-coverage-{label}-published", c.published) if linked else None)
         for label, c in items],
        [*(OUTCOME_NAMES[o][1] for o in OUTCOMES), "No response yet"], "published comments",
        total_labels=[share_text(c.share) for _, c in items])


def render_html(digest: Digest, catalogue: Catalogue, links: Links,
                toolbar: Markup | None = None, back: tuple[str, str] | None = None) -> str:
    """The digest as one standalone, printable HTML file (inline CSS and SVG)."""
    return digest_page(digest, catalogue, links, toolbar=toolbar, back=back).html


def digest_page(digest: Digest, catalogue: Catalogue, links: Links, *,
                site: SitePage | None = None, toolbar: Markup | None = None,
                back: tuple[str, str] | None = None) -> Rendered:
    """The digest as HTML: standalone (``site`` None) or a page of the public site with its
    chart files. ``toolbar``: markup put above it (the UI's form); ``back``: (href, text) of
    a link to the page the digest belongs to."""
    env = make_environment()
    rows = list(figure_rows(digest, catalogue))
    by_key = {(row.section, row.key): row for row in rows}
    hrefs: dict[int, str] = {}

    def comment_href(comment_id: int) -> str:
        # A comment is behind several figures: its link is made once.
        href = hrefs.get(comment_id)
        if href is None:
            href = hrefs[comment_id] = links.comment(digest, catalogue, comment_id)
        return href

    charts, files = place_charts(digest_charts(digest, catalogue, linked=site is None), site)
    html = env.get_template("digest.html").render(
        digest=digest,
        catalogue=catalogue,
        rows=rows,
        row=lambda section, key: by_key[(section, key)],
        charts=charts,
        comment_href=comment_href,
        period=period_text(digest),
        generated=local_time(digest, digest.generated_at),
        status_names=STATUS_NAMES,
        campaigns_summary=(summary(digest, "sq"), summary(digest, "en"))
        if digest.campaigns else None,
        language_names=LANGUAGE_NAMES,
        channel_names=CHANNEL_NAMES,
        outcome_names=OUTCOME_NAMES,
        outcomes=OUTCOMES,
        reason_names=reason_names,
        label_name=lambda label_id: _label_name(catalogue, label_id),
        short_name=lambda label_id: _short(catalogue, label_id, 34),
        share_text=share_text,
        toolbar=toolbar,
        back=back,
        home=relative(site.path, ROOT_INDEX) if site else None,
        **_head(site),
    )
    return Rendered(html, files)


def render(digest: Digest, catalogue: Catalogue, fmt: str, links: Links) -> str:
    if fmt == "html":
        return render_html(digest, catalogue, links)
    if fmt == "md":
        return render_markdown(digest, catalogue, links)
    if fmt == "csv":
        return render_csv(digest, catalogue)
    if fmt == "json":
        return render_json(digest, catalogue)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


# ---------------------------------------------------------------- the public site's pages

DIGESTS_DIR = "digests"
DIGESTS_INDEX = f"{DIGESTS_DIR}/index.html"


def hours_text(hours: float) -> str:
    if hours < 48:
        return f"{hours:g} orë / hours"
    return f"{hours:g} orë / hours (≈ {hours / 24:.1f} ditë / days)"


STATISTICS_PAGE = "statistics.html"


def render_statistics(stats: Statistics, catalogue: Catalogue, generated_at: datetime,
                      zone: tzinfo, site: SitePage | None = None) -> Rendered:
    """``statistics.html`` of the public site (``site``) or standalone: numbers only, nothing
    that names a comment. Its links are relative to ``statistics.html`` at the site's root."""
    from publish.charts import Bar, horizontal_bars

    env = make_environment()
    page = site.path if site else STATISTICS_PAGE
    title = "Rejected comments by reason"
    charts = {
        "reasons": Chart("statistics-reasons", title, horizontal_bars(
            "stats-reasons", title,
            [Bar(reason_names(code)[1], (n,)) for code, n in stats.rejected_by_reason.items()],
            ["comments"], "comments")),
        "coverage": Chart("statistics-coverage", COVERAGE_TITLE, coverage_chart(
            "stats-coverage", stats.response_coverage, catalogue, linked=False)),
    }
    shown, files = place_charts(charts, site)
    received, published = stats.campaign_comments
    grouped = {
        name: (campaigns_summary(len(counts), comments, unique, "sq"),
               campaigns_summary(len(counts), comments, unique, "en"))
        for name, counts, comments, unique in (
            ("received", stats.campaigns, received, stats.unique[0]),
            ("published", stats.campaigns_published, published, stats.unique[1]))
    } if stats.campaigns else None
    html = env.get_template("statistics.html").render(
        stats=stats, catalogue=catalogue, charts=shown, campaigns=grouped,
        generated=generated_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
        status_names=STATUS_NAMES, reason_names=reason_names, outcome_names=OUTCOME_NAMES,
        outcomes=OUTCOMES, share_text=share_text, hours=hours_text,
        short_name=lambda label_id: _short(catalogue, label_id, 40),
        label_page=lambda label_id: relative(
            page, commitment_page("sq", catalogue.label(label_id).id)),
        home=relative(page, ROOT_INDEX), digests=relative(page, DIGESTS_INDEX),
        **_head(site),
    )
    return Rendered(html, files)


@dataclass(frozen=True)
class WeekEntry:
    label: str
    file: str
    since: str
    until: str
    published: int
    responded: int


def week_file(digest: Digest) -> str:
    """``2020-W37.html``: the file of a weekly digest, named by its ISO week."""
    return f"{digest.weeks[0].label}.html" if digest.weeks else "week.html"


def render_digests_index(digests: Sequence[Digest], catalogue: Catalogue,
                         generated_at: datetime, zone: tzinfo) -> str:
    """``digests/index.html``: a page of the public site only (the CSP, a stylesheet)."""
    return render_week_index([week_entry(digest) for digest in digests if digest.weeks],
                             catalogue, generated_at, zone)


def week_entry(digest: Digest) -> WeekEntry:
    """A weekly digest's line on ``digests/index.html``."""
    return WeekEntry(digest.weeks[0].label, week_file(digest),
                     digest.weeks[0].start.isoformat(), digest.weeks[0].end.isoformat(),
                     digest.received.count, digest.coverage_overall.responded.count)


def render_week_index(entries: Sequence[WeekEntry], catalogue: Catalogue,
                      generated_at: datetime, zone: tzinfo) -> str:
    """``digests/index.html`` from its lines (oldest first; the page shows the newest first)."""
    env = make_environment()
    site = SitePage(DIGESTS_INDEX, f"{DIGESTS_DIR}/charts")
    weeks = list(reversed(entries))
    return env.get_template("digests_index.html").render(
        weeks=weeks, catalogue=catalogue,
        generated=generated_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
        home=relative(site.path, ROOT_INDEX), statistics=relative(site.path, STATISTICS_PAGE),
        **_head(site))
