"""The sidebar's controls: a slider and a play ticker whose logic runs in the browser, and a drop-down list.

The slider shows its value while it moves and reports it once it rests (so dragging does not
rebuild the model at every pixel); the ticker asks for a year at the play speed, but never before
the last one has been drawn (so playing never runs ahead of the page); the picture shows an SVG and
reports the province a click lands on. All are ipyvuetify templates, built on first use.
"""

from __future__ import annotations

import html
from typing import Any

import solara


def vuetify_props(dense: bool = True, outlined: bool = False) -> dict[str, Any]:
    """Props for a compact (and outlined) input in Vuetify 3 (ipyvuetify 3) or Vuetify 2."""
    from solara.util import IPYVUETIFY_V3

    if IPYVUETIFY_V3:
        return {"density": "compact" if dense else "default", **({"variant": "outlined"} if outlined else {})}
    return {"dense": dense, **({"outlined": True} if outlined else {})}


def select_items(pairs: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """(label, value) pairs as select items for Vuetify 3 (title) and Vuetify 2 (text)."""
    return [{"title": label, "text": label, "value": value} for label, value in pairs]


SLIDER_SETTLE_MS = 300
"""A slider applies its value once it has rested this long, so dragging does not rebuild the model."""

_SLIDER_TEMPLATE = """
<template>
  <div :class="'ctl ' + css_class" :title="tip">
    <div class="ctl-title"><span>{{ title }}</span><span class="val">{{ label }}</span></div>
    <div v-if="help" class="ctl-help">{{ help }}</div>
    <v-slider v-model="shown" :min="low" :max="high" :step="step" hide-details density="compact" dense
              color="primary"></v-slider>
  </div>
</template>
<script>
module.exports = {
  data() { return { shown: null, timer: null }; },
  created() { this.shown = this.committed; },
  computed: {
    label() { return Number(this.shown).toFixed(this.decimals) + this.suffix; },
  },
  watch: {
    committed(value) { clearTimeout(this.timer); this.shown = value; },
    shown(value) {
      clearTimeout(this.timer);
      if (value !== this.committed) {
        this.timer = setTimeout(() => this.commit(value), this.settle_ms);
      }
    },
  },
}
</script>
"""

_TICKER_TEMPLATE = """
<template><span class="sim-ticker" style="display: none"></span></template>
<script>
module.exports = {
  data() { return { timer: null, last: 0 }; },
  mounted() { this.schedule(); },
  beforeUnmount() { clearTimeout(this.timer); },
  beforeDestroy() { clearTimeout(this.timer); },
  watch: {
    active() { this.schedule(); },
    done() { this.schedule(); },
    interval_ms() { this.schedule(); },
  },
  methods: {
    schedule() {
      clearTimeout(this.timer);
      if (this.active) {
        // the next year is asked for interval_ms after the last was asked for (not after it arrived),
        // so the page keeps the stated speed whenever a year takes less than interval_ms to arrive
        const wait = Math.max(0, this.interval_ms - (Date.now() - this.last));
        this.timer = setTimeout(() => { this.last = Date.now(); this.tick(this.done); }, wait);
      }
    },
  },
}
</script>
"""


_PICTURE_TEMPLATE = """
<template>
  <div :class="css_class" :title="tip" v-html="svg" @click="clicked"></div>
</template>
<script>
module.exports = {
  methods: {
    clicked(event) {
      const target = event.target.closest ? event.target.closest('[data-province]') : null;
      if (target) { this.pick(target.getAttribute('data-province')); }
    },
  },
}
</script>
"""


def _widget_classes() -> tuple[type, type, type]:
    """The widgets whose logic runs in the browser (built on first use, then cached)."""
    if not _WIDGETS:
        import ipyvuetify
        import traitlets

        class SliderWidget(ipyvuetify.VuetifyTemplate):
            """A titled slider that shows its value while it moves and commits it once it rests."""

            template = traitlets.Unicode(_SLIDER_TEMPLATE).tag(sync=True)
            title = traitlets.Unicode("").tag(sync=True)
            help = traitlets.Unicode("").tag(sync=True)
            tip = traitlets.Unicode("").tag(sync=True)
            css_class = traitlets.Unicode("").tag(sync=True)
            committed = traitlets.Float(0.0).tag(sync=True)
            low = traitlets.Float(0.0).tag(sync=True)
            high = traitlets.Float(1.0).tag(sync=True)
            step = traitlets.Float(0.1).tag(sync=True)
            decimals = traitlets.Int(1).tag(sync=True)
            suffix = traitlets.Unicode("").tag(sync=True)
            settle_ms = traitlets.Int(SLIDER_SETTLE_MS).tag(sync=True)
            commit_callback = traitlets.Any(None)

            def vue_commit(self, data):
                if self.commit_callback is not None:
                    self.commit_callback(data)

        class TickerWidget(ipyvuetify.VuetifyTemplate):
            """While ``active``, asks for a year every ``interval_ms``, but never before the last one arrived.

            Playing is driven from the browser so that every step runs where clicks run: one year
            at a time, never faster than the page can draw them, and at the stated pace when it can.
            """

            template = traitlets.Unicode(_TICKER_TEMPLATE).tag(sync=True)
            active = traitlets.Bool(False).tag(sync=True)
            interval_ms = traitlets.Int(250).tag(sync=True)
            done = traitlets.Int(0).tag(sync=True)
            tick_callback = traitlets.Any(None)

            def vue_tick(self, data):
                if self.active and self.tick_callback is not None:
                    self.tick_callback()

        class PictureWidget(ipyvuetify.VuetifyTemplate):
            """An SVG picture; a click on an element with ``data-province`` calls back with that name."""

            template = traitlets.Unicode(_PICTURE_TEMPLATE).tag(sync=True)
            svg = traitlets.Unicode("").tag(sync=True)
            css_class = traitlets.Unicode("").tag(sync=True)
            tip = traitlets.Unicode("").tag(sync=True)
            pick_callback = traitlets.Any(None)

            def vue_pick(self, data):
                if self.pick_callback is not None and isinstance(data, str):
                    self.pick_callback(data)

        _WIDGETS.extend([SliderWidget, TickerWidget, PictureWidget])
    return _WIDGETS[0], _WIDGETS[1], _WIDGETS[2]


_WIDGETS: list[type] = []


def control_title_html(title: str, value: str = "", help: str = "") -> str:
    """A control's title with its current value on the right, and a line of help below (HTML)."""
    text = (f"<div class='ctl-title'><span>{html.escape(title)}</span>"
            f"<span class='val'>{html.escape(value)}</span></div>")
    return text + (f"<div class='ctl-help'>{html.escape(help)}</div>" if help else "")


@solara.component
def Slider(title: str, value: float, low: float, high: float, step: float, decimals: int, suffix: str, help: str,
           css: str, on_change, tip: str = ""):
    """A slider with a title, its value, a line of help and a tooltip; ``on_change`` gets the value once it rests."""
    slider_widget, _, _ = _widget_classes()
    return slider_widget.element(title=title, help=help, tip=tip, css_class=css, committed=float(value), low=float(low),
                                 high=float(high), step=float(step), decimals=decimals, suffix=suffix,
                                 commit_callback=lambda new: on_change(new) if new is not None else None)


@solara.component
def Ticker(active: bool, interval_ms: int, done: int, on_tick):
    """While ``active``, calls ``on_tick`` every ``interval_ms``, each time after the last update ``done`` arrived."""
    _, ticker_widget, _ = _widget_classes()
    return ticker_widget.element(active=active, interval_ms=int(interval_ms), done=done, tick_callback=on_tick)


@solara.component
def Choice(title: str, value: Any, items: list[tuple[str, Any]], help: str, css: str, on_change, tip: str = ""):
    """A drop-down list of (label, value) items, with a title, a line of help and a tooltip."""
    with solara.Div(classes=["ctl", f"{css}-box"], attributes={"title": tip or help}):
        solara.HTML(tag="div", unsafe_innerHTML=control_title_html(title, "", help))
        solara.v.Select(v_model=value, items=select_items(items),
                        on_v_model=lambda v: on_change(v) if v != value else None,
                        hide_details=True, class_=css, **vuetify_props(outlined=True))


@solara.component
def Picture(svg: str, css: str = "", tip: str = "", on_pick=None):
    """An SVG picture (from :mod:`sim.app.charts`); ``on_pick(name)`` when a province's tile is clicked."""
    _, _, picture_widget = _widget_classes()
    return picture_widget.element(svg=svg, css_class=css, tip=tip, pick_callback=on_pick)
