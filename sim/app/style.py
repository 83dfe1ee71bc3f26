"""The dashboard's styles: the page's CSS and the Vuetify theme colours."""

from __future__ import annotations

CSS = """
.sim-app { display: flex; align-items: flex-start; min-height: 100vh; background: #f3f5f9;
  font-family: Roboto, 'DejaVu Sans', sans-serif; }
.sim-side { flex: none; width: 330px; position: sticky; top: 0; height: 100vh; overflow-y: auto;
  background: white; border-right: 1px solid #e2e6ec; padding: 0 14px 16px 14px; }
.sim-side .brand { margin: 0 -14px 10px -14px; padding: 12px 14px; background: #1565c0; color: white; }
.sim-side .brand .t { font-size: 1.05rem; font-weight: 700; line-height: 1.2; }
.sim-side .brand .s { font-size: 0.78rem; opacity: .85; }
.sim-side .buttons { display: grid; grid-template-columns: 1fr 1fr; gap: 6px; margin-bottom: 4px; }
.sim-side .buttons .v-btn { width: 100%; }
.sim-side .section { font-size: 0.72rem; font-weight: 700; letter-spacing: .08em; text-transform: uppercase;
  color: #5c6b7a; margin: 16px 0 2px 0; padding-top: 8px; border-top: 1px solid #eef0f3; }
.sim-side .ctl-title { font-size: 0.88rem; font-weight: 600; color: #222; display: flex;
  justify-content: space-between; margin-top: 8px; }
.sim-side .ctl-title .val { color: #1565c0; font-variant-numeric: tabular-nums; white-space: nowrap; padding-left: 6px; }
.sim-side .ctl-help { font-size: 0.74rem; color: #6b6b6b; line-height: 1.25; margin-bottom: 2px; }
.sim-side .timing { font-size: 0.72rem; color: #999; margin-top: 10px; }
.sim-side .v-slider.v-input--horizontal { margin-inline: 4px; }
.sim-side .v-select, .sim-side .v-text-field { margin-top: 4px; }
.sim-side .v-select .v-select__selection-text { font-size: 0.86rem; }
.sim-main { flex: 1; min-width: 0; padding: 12px 16px 24px 16px; }
.sim-header { display: flex; align-items: center; gap: 20px; margin-bottom: 10px; }
.sim-header .year { font-size: 3.2rem; font-weight: 800; color: #1565c0; line-height: 1;
  font-variant-numeric: tabular-nums; }
.sim-header .meta { flex: 1; min-width: 0; }
.sim-header .meta .name { font-size: 1.2rem; font-weight: 700; }
.sim-header .meta .desc { color: #555; font-size: 0.9rem; }
.sim-header .progress { height: 8px; background: #dfe6ef; border-radius: 4px; margin-top: 8px; overflow: hidden; }
.sim-header .progress > div { height: 100%; background: linear-gradient(90deg, #64b5f6, #1565c0);
  transition: width .2s; }
.sim-header .progress-label { font-size: 0.78rem; color: #666; margin-top: 3px; }
.sim-kpis { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 10px; margin-bottom: 12px; }
.sim-kpis .kpi { background: white; border-radius: 10px; padding: 8px 12px; box-shadow: 0 1px 3px rgba(0,0,0,.1); }
.sim-kpis .kpi-title { font-size: 0.72rem; font-weight: 700; color: #5c6b7a; text-transform: uppercase;
  letter-spacing: .04em; }
.sim-kpis .kpi-value { font-size: 1.55rem; font-weight: 700; color: #1a1a1a; font-variant-numeric: tabular-nums;
  line-height: 1.25; }
.sim-kpis .kpi-unit { font-size: 0.7rem; color: #777; line-height: 1.2; min-height: 2.4em; }
.sim-kpis .kpi-delta { font-size: 0.78rem; color: #1565c0; min-height: 1.2em; white-space: nowrap; }
.sim-kpis .kpi-delta span { color: #888; }
.sim-card { background: white; border-radius: 10px; padding: 10px 12px; box-shadow: 0 1px 3px rgba(0,0,0,.1);
  min-width: 0; }
.sim-card h3 { font-size: 0.98rem; font-weight: 700; margin: 0 0 2px 0; color: #222; }
.sim-card .sub { font-size: 0.78rem; color: #666; margin-bottom: 4px; }
.sim-card img, .sim-card svg { width: 100%; height: auto; display: block; }
.sim-map .map-options { display: flex; align-items: center; justify-content: space-between; gap: 8px;
  flex-wrap: wrap; margin: 0 0 2px 0; }
.sim-map .map-options .v-input { margin: 0; flex: none; }
.sim-map .map-hint { font-size: 0.78rem; color: #666; }
.sim-map-picture svg .tile:hover rect { stroke: #1565c0; stroke-width: 3; }
.sim-province .province-tools { display: flex; align-items: center; gap: 6px; flex: 0 0 auto; }
.sim-province .province-tools .ctl { width: 230px; }
.sim-province .head { flex-wrap: wrap; }
.sim-province { margin-bottom: 12px; }
.sim-province-picture { max-width: 900px; }
.sim-side .play-rate { font-size: 0.78rem; color: #1565c0; min-height: 1.1em; }
.sim-model { max-width: 900px; font-size: 0.92rem; line-height: 1.45; color: #222; }
.sim-model h2 { font-size: 1.2rem; margin: 4px 0 8px 0; }
.sim-model h3 { margin-top: 14px; }
.sim-model ol, .sim-model ul { padding-left: 22px; }
.sim-model li { margin-bottom: 5px; }
.sim-model ul.strategies { list-style: none; padding-left: 4px; }
.sim-model .chip { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 6px; }
.sim-model .note { color: #666; font-size: 0.82rem; }
.sim-main .v-window { overflow: visible; }
.sim-main .v-tabs { margin-bottom: 10px; }
.sim-card .head { display: flex; align-items: center; justify-content: space-between; gap: 10px; }
.sim-row { display: grid; grid-template-columns: minmax(0, 1.08fr) minmax(0, 1fr); gap: 12px; margin-bottom: 12px; }
.sim-stack { display: flex; flex-direction: column; gap: 12px; min-width: 0; }
.sim-charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 12px; }
table.top10 { width: 100%; border-collapse: collapse; font-size: 0.84rem; }
table.top10 th { text-align: left; font-size: 0.7rem; color: #5c6b7a; text-transform: uppercase;
  border-bottom: 2px solid #e3e3e3; padding: 3px 5px; vertical-align: bottom; }
table.top10 th .cap { text-transform: none; }
table.top10 td { padding: 3px 5px; border-bottom: 1px solid #f0f0f0; vertical-align: middle; }
table.top10 .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.top10 .rank { color: #888; font-weight: 700; width: 1.5em; }
table.top10 .prov { font-weight: 700; white-space: nowrap; }
table.top10 .cap { font-size: 0.74rem; color: #777; font-weight: 400; }
table.top10 .up { color: #2e7d32; font-weight: 700; }
table.top10 .down { color: #c62828; font-weight: 700; }
table.top10 .same { color: #bbb; }
table.top10 .tag { font-size: 0.64rem; background: #fff0e3; color: #b2541a; border-radius: 4px; padding: 0 4px;
  font-weight: 600; }
table.top10 td:last-child { white-space: nowrap; }
table.top10 .chip { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; }
.sim-events-box { max-height: 250px; overflow-y: auto; }
.sim-tips ul { padding-left: 18px; margin: 4px 0 0 0; font-size: 0.85rem; color: #333; }
.sim-tips li { margin-bottom: 5px; line-height: 1.35; }
ul.events { list-style: none; padding: 0 !important; margin: 0; font-size: 0.83rem; }
ul.events li { display: flex; gap: 8px; align-items: baseline; padding: 3px 4px; border-bottom: 1px solid #f3f3f3; }
ul.events li.fresh { background: #fff8d6; }
ul.events .year { font-weight: 700; color: #1565c0; font-variant-numeric: tabular-nums; }
ul.events .text { flex: 1; }
ul.events .kind { color: white; font-size: 0.66rem; border-radius: 4px; padding: 0 5px; white-space: nowrap; }
.sim-events-box .empty { color: #777; font-style: italic; }
.sim-message { margin-bottom: 10px; }
.sim-error { position: sticky; top: 6px; z-index: 10; background: #fff6f6 !important;
  box-shadow: 0 2px 8px rgba(0,0,0,.15); }
.sim-map .head { flex-wrap: wrap; }
.sim-map .head .ctl { flex: 0 0 auto; width: 340px; max-width: 100%; }
.sim-map-picture { max-width: 760px; margin: 0 auto; }
@media (max-width: 1400px) { .sim-row { grid-template-columns: minmax(0, 1fr); } }
@media (max-width: 1150px) { .sim-charts { grid-template-columns: minmax(0, 1fr); }
  .sim-kpis { grid-template-columns: repeat(3, minmax(0, 1fr)); } }
"""
"""Styles of the page (class names as :mod:`sim.app.page` and :mod:`sim.app.fragments` write them)."""

PRIMARY = "#1565c0"
"""The page's accent colour (buttons, sliders, the year)."""


def set_theme() -> None:
    """Give Solara's light theme the page's accent colours."""
    from solara.lab import theme

    theme.themes.light.primary = PRIMARY
    theme.themes.light.secondary = "#42a5f5"
