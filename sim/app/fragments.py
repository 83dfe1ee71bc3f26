"""HTML pieces of the dashboard: the headline numbers, the top-10 table, the event log, tips, errors.

Everything from a scenario file (province, event and scenario names) is escaped. Strategy chips
take :data:`sim.plotting.STRATEGY_COLOURS`, as the map and the report do.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np

from sim.app.session import Snapshot
from sim.plotting import strategy_colour

EVENT_COLOURS = {
    "institute_founded": "#2e8b57",
    "institute_closed": "#7a7a7a",
    "breakthrough": "#d4a017",
    "strategy_switch": "#3a7dc9",
    "endorsement": "#8e5ab5",
    "fund_failure": "#c0392b",
    "fdi_shock": "#c0392b",
    "infrastructure": "#16a085",
    "real_estate_decline": "#a0522d",
}
"""Background of each kind of event's badge in the event log (white text on it)."""

TIPS_HTML = """
<h3>Things to try</h3>
<ul>
<li><b>Press Play</b> and watch the Gini and the Theil <i>between regions</i>: does the gap between the coast
and the interior close, and how fast?</li>
<li><b>Move graduate mobility</b> up or down, then step again: the dashed lines are your last run. Where do the
graduates go, and what happens to the interior's share of research?</li>
<li><b>Give the West a strategy</b> (cas_branch, hefei, ...) and compare. Colour the map by
<i>Growth of GDP per person</i> to see who catches up.</li>
<li><b>Switch imitation on</b> and colour the map by <i>Strategy</i>: which strategy spreads, and where?</li>
<li><b>Turn global openness down</b> in foreign_multinational.toml: what happens to the open zones?</li>
</ul>
"""
"""Suggestions for students, shown beside the top-10 table."""


def format_delta(value: float, decimals: int, unit: str = "") -> str:
    """``▲ 1.2`` / ``▼ 0.3``, or ``no change`` when it rounds to zero."""
    if abs(value) < 0.5 * 10 ** (-decimals):
        return "no change"
    arrow = "▲" if value > 0 else "▼"
    return f"{arrow} {abs(value):,.{decimals}f}{unit}"


def kpi_html(snapshot: Snapshot) -> str:
    """The row of headline numbers, each with its change since the start year."""
    first, last = snapshot.national[0], snapshot.national[-1]
    items = [
        ("Gini", "inequality of GDP per person (0 = equal)", "gini", 1.0, 3, ""),
        ("Theil between", "gap between the 4 regions", "theil_between_region", 1.0, 3, ""),
        ("Theil within", "gaps inside each region", "theil_within_region", 1.0, 3, ""),
        ("National GDP", "CNY trillion a year", "gdp_real_cny_bn", 1e-3, 1, ""),
        ("Research output", "thousand SCI papers a year", "research_output", 1e-3, 0, ""),
        ("Interior share", "of research output, %", "interior_research_share", 100.0, 1, " pts"),
    ]
    cells = []
    for title, unit, column, scale, decimals, delta_unit in items:
        value = last[column] * scale
        delta = ""
        if snapshot.years_done:
            change = format_delta((last[column] - first[column]) * scale, decimals, delta_unit)
            delta = f"{change} <span>since {snapshot.start_year}</span>"
        cells.append(f'<div class="kpi kpi-{column}"><div class="kpi-title">{title}</div>'
                     f'<div class="kpi-value">{value:,.{decimals}f}</div><div class="kpi-unit">{unit}</div>'
                     f'<div class="kpi-delta">{delta}</div></div>')
    return "".join(cells)


def interior_in_top10(snapshot: Snapshot) -> int:
    """How many of the 10 provinces with the most research output are interior ones."""
    papers = snapshot.values["research_output"]
    return int((~snapshot.coastal[np.argsort(-papers, kind="stable")[:10]]).sum())


def top10_html(snapshot: Snapshot) -> str:
    """The top 10 provinces by research output with capital city, papers, share, rank change, strategy."""
    papers = snapshot.values["research_output"]
    order = np.argsort(-papers, kind="stable")[:10]
    total = float(papers.sum())
    rows = []
    for rank, i in enumerate(order, start=1):
        moved = int(snapshot.start_rank[i]) - rank
        if snapshot.years_done == 0 or moved == 0:
            change = '<span class="same">–</span>'
        elif moved > 0:
            change = f'<span class="up">▲ {moved}</span>'
        else:
            change = f'<span class="down">▼ {-moved}</span>'
        strategy = snapshot.strategies[i]
        tag = "" if snapshot.coastal[i] else ' <span class="tag">interior</span>'
        rows.append(
            f"<tr><td class='rank'>{rank}</td>"
            f"<td><div class='prov'>{html.escape(snapshot.names[i])}{tag}</div>"
            f"<div class='cap'>{html.escape(snapshot.capitals[i])}</div></td>"
            f"<td class='num'>{papers[i]:,.0f}</td><td class='num'>{100 * papers[i] / total:.1f} %</td>"
            f"<td class='num'>{change}</td>"
            f"<td><span class='chip' style='background:{strategy_colour(strategy)}'></span>"
            f"{html.escape(strategy)}</td></tr>")
    head = ("<thead><tr><th>#</th><th>Province<div class='cap'>capital city</div></th><th class='num'>Papers a year</th>"
            f"<th class='num'>Share</th><th class='num' title='places moved since {snapshot.start_year}'>Moved</th>"
            "<th>Strategy</th></tr></thead>")
    return f"<table class='top10'>{head}<tbody>{''.join(rows)}</tbody></table>"


def event_line(event: tuple[int, str, str, str]) -> str:
    """One event as a student reads it: ``2031 Anhui: national lab founded in ev_batteries``."""
    year, _kind, province, detail = event
    return f"{year} {province}: {detail}" if province else f"{year}: {detail}"


def events_html(snapshot: Snapshot) -> str:
    """The event log, newest first; this year's events are highlighted."""
    if not snapshot.events:
        return "<div class='empty'>Nothing has happened yet: press Step or Play.</div>"
    items = []
    for event in reversed(snapshot.events):
        year, kind, province, detail = event
        colour = EVENT_COLOURS.get(kind, "#888888")
        fresh = " fresh" if year == snapshot.year else ""
        where = f"<b>{html.escape(province)}</b>: " if province else ""
        items.append(f"<li class='event{fresh}'><span class='year'>{year}</span>"
                     f"<span class='text'>{where}{html.escape(detail)}</span>"
                     f"<span class='kind' style='background:{colour}'>{html.escape(kind.replace('_', ' '))}</span>"
                     "</li>")
    return f"<ul class='events'>{''.join(items)}</ul>"


def header_html(snapshot: Snapshot, playing: bool) -> str:
    """The big year, the scenario's name and description, and how far the run has got."""
    done = snapshot.years_done
    span = max(snapshot.end_year - snapshot.start_year, 1)
    if playing:
        status = "playing…"
    elif not snapshot.running:
        status = "reached the horizon: press Reset, or move a slider to try something else"
    else:
        status = "press Step for one year, Play to keep going"
    return (f"<div class='year sim-year'>{snapshot.year}</div>"
            f"<div class='meta'><div class='name'>{html.escape(snapshot.scenario_name)}</div>"
            f"<div class='desc'>{html.escape(snapshot.description)}</div>"
            f"<div class='progress'><div style='width:{100 * done / span:.1f}%'></div></div>"
            f"<div class='progress-label'>year {done} of {span} ({snapshot.start_year}–{snapshot.end_year}) · "
            f"{status}</div></div>")


_SETTING = re.compile(r"^the '(?P<control>[^']+)' setting: (?P<key>[\w.]+): (?P<rest>.*)$", re.S)
_CONFLICT = re.compile(r"group '(?P<group>\w+)' assigns '(?P<mine>\w+)' but strategies\.assign\.(?P<other>\w+) "
                       r"assigns '(?P<theirs>\w+)' to the same provinces \((?P<provinces>[^)]*)\)")
_BOUND = re.compile(r"Input should be (?P<how>less|greater) than(?P<equal> or equal to)? (?P<limit>\S+), "
                    r"got (?P<got>\S+)")


def error_text(exc: BaseException, scenario: str = "") -> str:
    """An error as the page shows it: in the page's words (its controls and the scenario file), no key paths.

    A control the schema refuses is named as the sidebar names it ("West strategy", "Horizon"); a
    region's strategy that clashes with the scenario file says which provinces the file already
    gives which strategy, and what to do; a broken scenario file is named by its file name.
    """
    text = str(exc)
    file_name = Path(scenario).name if scenario else "the scenario file"
    match = _SETTING.match(text)
    if match is None:
        if scenario and text.startswith(scenario):
            rest = re.sub(r"^(\w+)\.([\w.]+): ", r"[\1] \2: ", text[len(scenario):].lstrip(": "))
            return f"The scenario file {file_name} cannot be used: {rest}"
        return text
    control, rest = match["control"], match["rest"]
    conflict = _CONFLICT.search(rest)
    if conflict:
        region = conflict["group"].capitalize()
        return (f"{control} '{conflict['mine']}' clashes with {file_name}, which already gives every "
                f"{conflict['other']} province ({conflict['provinces']}) the strategy '{conflict['theirs']}'. "
                f"Set {region} back to 'as in the scenario file', choose '{conflict['theirs']}' for it, or open "
                "baseline.toml, which gives no region a strategy.")
    bound = _BOUND.search(rest)
    if bound:
        got = bound["got"]
        if bound["how"] == "less":
            return f"{control}: {got} is too high; the most it can be is {bound['limit']}."
        return f"{control}: {got} is too low; the least it can be is {bound['limit']}."
    return f"{control}: {rest}"


MODEL_HTML = """
<h2>How the model works</h2>
<p>Each of China's 31 provinces is an agent with its own economy, universities and research institutes,
graduates and a development <b>strategy</b>. One press of <i>Step</i> is one year. In every year the same
things happen, in this order:</p>
<ol class="cycle">
<li><b>Events.</b> Anything the scenario schedules for the year happens: a shock to foreign investment, a
decline in real estate, new railways, a central megaproject, a breakthrough.</li>
<li><b>Science budgets.</b> The nation spends a share of its GDP on research (the <i>National R&amp;D
intensity</i> control is the share it reaches in 2035). Each province pays its own part, in proportion
to its GDP and how research-intensive it was; the central government's pool is shared out by a rule
(and a strategy can claim matching money from it first).</li>
<li><b>Strategies spend.</b> Each province decides, through its strategy, where its science money goes
(existing institutes, a new flagship lab, branch institutes, places for students) and what it pays
beyond that out of its own investment (a guidance fund's stakes in firms, incentives for foreign labs).</li>
<li><b>Research.</b> Institutes wear out and grow with their funding; more capacity means more papers,
with bigger research centres a little more productive per yuan.</li>
<li><b>Graduates</b> finish their studies and choose where to work: their home province or, as often as
<i>Graduate mobility</i> allows, wherever pay and prospects are best (usually the coast).</li>
<li><b>Knowledge becomes productivity.</b> Research in a province, and some from its neighbours, raises
the productivity of the industries that can use it; poorer provinces also catch up by copying.</li>
<li><b>Production.</b> Firms produce with capital, workers and skills; consumer markets are shared out
across the country; GDP and next year's investment follow.</li>
<li><b>People move</b> towards higher incomes, and populations grow or shrink.</li>
<li><b>Strategies react</b>: a guidance-fund bet may fail, a multinational lab may arrive or leave. Every
five years, when <i>Imitation</i> is on, each province looks at a neighbour and may copy its strategy
if that neighbour grew faster.</li>
<li><b>Record.</b> The year's numbers are written down: they are what the charts, the map and the
tables show.</li>
</ol>
<h3>The strategies</h3>
<p>Every strategy spends the same science budget, only differently; some also pay for instruments out of
the province's own investment.</p>
<ul class="strategies">
<li><span class="chip" style="background:{baseline}"></span><b>baseline</b> (business as usual): all the
science money goes to the institutes the province already has.</li>
<li><span class="chip" style="background:{hefei}"></span><b>hefei</b> (the Hefei model): almost half the
money builds a flagship national lab in the field where the province is strongest, and a guidance fund
buys stakes in the matching industry. Research reaches that industry faster, but each year the fund's bet
may fail and lose most of its stake.</li>
<li><span class="chip" style="background:{cas_branch}"></span><b>cas_branch</b>: the province hosts two
branches of the Chinese Academy of Sciences in fields its natural endowment suits; the centre pays
one and a half yuan for each provincial yuan (so other provinces get less central money).</li>
<li><span class="chip" style="background:{foreign_multinational}"></span><b>foreign_multinational</b>: the
province opens a zone with incentives for multinational research labs. A lab may arrive each year, more
likely on the coast, with skilled workers and an open world (<i>Global openness</i>); it brings foreign money
and capital, part of the profit leaves, and labs leave again when the world closes.</li>
<li><span class="chip" style="background:{consumer_niche}"></span><b>consumer_niche</b>: research and
equity go into one national consumer market (electric vehicles, drones, ...). <i>Independent</i>
provinces all chase the biggest market and crowd it; <i>coordinated</i> ones are each given their own.</li>
<li><span class="chip" style="background:{megacity}"></span><b>megacity</b>: the centre sends most of its
science money to Beijing, Shanghai and Guangdong.</li>
</ul>
<p class="note">The full description, with every equation, parameter value and its source, is docs/ODD.md
in the project.</p>
"""
"""The Model tab: the yearly cycle and the strategies in plain words (from docs/ODD.md, sections 3 and 6)."""


def model_html() -> str:
    """:data:`MODEL_HTML` with each strategy's colour chip (the map's and the report's colours)."""
    from sim.plotting import STRATEGY_COLOURS

    return MODEL_HTML.format(**STRATEGY_COLOURS)
